# Copyright (c) mmreid_text contributors. All rights reserved.
"""The chat messages of one request: instruction text and image."""
import base64
import io
import mimetypes
import os
from typing import Any, Dict, List, Optional, Tuple


class ImageCheckError(ValueError):
    """An image file that cannot be sent: missing, corrupt, too small."""


def encode_image(path: str,
                 tile: Optional[Tuple[int, int]] = None,
                 max_side: Optional[int] = None,
                 min_side: int = 8) -> str:
    """Image file as a base64 ``data:`` URL, verified locally first.

    Every image is decoded in full (a truncated or corrupt file, or one
    that is not an image, is never sent) and its size is checked.

    Args:
        path: Image file.
        tile: ``(index, count)``: send only tile ``index`` of ``count``
            equal-width tiles side by side (RGBNT100 stores RGB | NIR | TIR
            in one file).
        max_side: Downscale so the longer side is at most this.
        min_side: Smallest accepted side in pixels (of the tile).

    Raises:
        ImageCheckError: naming the file and what is wrong with it.
    """
    if not os.path.isfile(path):
        raise ImageCheckError(f'Image {path!r} does not exist')
    from PIL import Image
    with open(path, 'rb') as f:
        payload = f.read()
    try:
        with Image.open(io.BytesIO(payload)) as img:
            img.load()  # decodes every pixel: truncated data fails here
            img = img.convert('RGB')
    except Exception as err:  # PIL raises many types for bad data
        raise ImageCheckError(
            f'Image {path!r} cannot be decoded ({type(err).__name__}: '
            f'{err})') from err
    if tile is not None:
        index, count = tile
        width = img.width // count
        img = img.crop((index * width, 0, (index + 1) * width, img.height))
    if min(img.size) < max(1, min_side):
        raise ImageCheckError(
            f'Image {path!r}' +
            (f' tile {tile[0]} of {tile[1]}' if tile else '') +
            f' is {img.width}x{img.height} px, '
            f'smaller than {min_side} px on a side (min_image_side)')
    mime = mimetypes.guess_type(path)[0] or 'application/octet-stream'
    if tile is not None or (max_side and max(img.size) > max_side) or \
            mime not in ('image/jpeg', 'image/png'):
        if max_side and max(img.size) > max_side:
            img.thumbnail((max_side, max_side))
        buffer = io.BytesIO()
        img.save(buffer, format='PNG')
        payload, mime = buffer.getvalue(), 'image/png'
    return f'data:{mime};base64,' + base64.b64encode(payload).decode('ascii')


def build_messages(prompt: str,
                   image_url: Optional[str] = None,
                   detail: Optional[str] = None) -> List[Dict[str, Any]]:
    """One user message with the instruction and optionally the image."""
    if image_url is None:
        return [{'role': 'user', 'content': prompt}]
    image_part: Dict[str, Any] = {'url': image_url}
    if detail:
        image_part['detail'] = detail
    return [{
        'role':
        'user',
        'content': [{
            'type': 'text',
            'text': prompt
        }, {
            'type': 'image_url',
            'image_url': image_part
        }]
    }]
