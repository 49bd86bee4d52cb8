# Copyright (c) mmreid_text contributors. All rights reserved.
"""The chat messages of one request: instruction text and image."""
import base64
import io
import mimetypes
import os
from typing import Any, Dict, List, Optional, Tuple


def encode_image(path: str,
                 tile: Optional[Tuple[int, int]] = None,
                 max_side: Optional[int] = None) -> str:
    """Image file as a base64 ``data:`` URL.

    Args:
        path: Image file.
        tile: ``(index, count)``: send only tile ``index`` of ``count``
            equal-width tiles side by side (RGBNT100 stores RGB | NIR | TIR
            in one file).
        max_side: Downscale so the longer side is at most this.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'Image {path!r} does not exist')
    mime = mimetypes.guess_type(path)[0] or 'application/octet-stream'
    if tile is None and max_side is None and mime in ('image/jpeg',
                                                      'image/png'):
        with open(path, 'rb') as f:
            payload = f.read()
    else:
        from PIL import Image
        with Image.open(path) as img:
            img = img.convert('RGB')
            if tile is not None:
                index, count = tile
                width = img.width // count
                img = img.crop(
                    (index * width, 0, (index + 1) * width, img.height))
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
