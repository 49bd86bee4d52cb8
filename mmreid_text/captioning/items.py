# Copyright (c) mmreid_text contributors. All rights reserved.
"""``ImageItem``: one image of one modality to caption."""
from dataclasses import dataclass
from typing import Optional, Tuple


@dataclass(frozen=True)
class ImageItem:
    """One image of one modality.

    Args:
        rel_path: Path relative to the dataset root (the caption-file key).
        modality: Modality name (``rgb``, ``nir``, ``tir``, ``vis``, ``ir``).
        abs_path: The image file.
        group: Sample id shared by the images of one sample (modalities of
            a group complement each other); ``''`` means its own group.
        tile: ``(index, count)`` when the file holds ``count`` modalities
            side by side and this item is tile ``index``.
    """
    rel_path: str
    modality: str
    abs_path: str
    group: str = ''
    tile: Optional[Tuple[int, int]] = None

    @property
    def group_key(self) -> str:
        return self.group or f'{self.rel_path}#{self.modality}'
