# Copyright (c) mmreid_text contributors. All rights reserved.
"""A hand-made cross-modality check for the visible-infrared layouts."""
from typing import Dict, List, Sequence

import numpy as np
from PIL import Image


def band_descriptor(frames: Sequence[str], bands: int = 16) -> np.ndarray:
    """``[bands]`` brightness profile of a tracklet: per frame, the mean
    grey level of ``bands`` horizontal bands of the central half of the
    width, standardised (so a modality's overall brightness and contrast
    do not count), averaged over the frames."""
    profiles = []
    for path in frames:
        with Image.open(path) as img:
            grey = np.asarray(img.convert('L'), dtype=np.float64)
        h, w = grey.shape
        centre = grey[:h - h % bands, w // 4:w - w // 4]
        profile = centre.reshape(bands, -1).mean(axis=1)
        profiles.append((profile - profile.mean()) / (profile.std() + 1e-6))
    return np.mean(profiles, axis=0)


def cross_modality_rank1(infos: List[Dict],
                         query_modality: str,
                         pids: Sequence[int] = None,
                         camera_rule: bool = True) -> float:
    """Rank-1 of ``query_modality`` queries (``is_query``) against the
    gallery entries (``is_gallery``) of the other modality, nearest
    neighbour on :func:`band_descriptor`; ``pids`` overrides the identity
    labels (e.g. shuffled); ``camera_rule`` ignores same-pid same-camera
    gallery entries."""
    pids = [d['pid'] for d in infos] if pids is None else list(pids)
    desc = [band_descriptor(next(iter(d['img_path'].values()))) for d in infos]
    queries = [
        i for i, d in enumerate(infos)
        if d['is_query'] and d['modality'] == query_modality
    ]
    gallery = [
        i for i, d in enumerate(infos)
        if d['is_gallery'] and d['modality'] != query_modality
    ]
    hits = 0
    for q in queries:
        kept = [
            g for g in gallery if not camera_rule or pids[g] != pids[q]
            or infos[g]['camid'] != infos[q]['camid']
        ]
        dist = [np.sum((desc[q] - desc[g])**2) for g in kept]
        hits += pids[kept[int(np.argmin(dist))]] == pids[q]
    return hits / len(queries)
