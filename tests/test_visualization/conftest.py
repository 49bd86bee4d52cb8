# Copyright (c) mmreid_text contributors. All rights reserved.
import numpy as np
from PIL import Image


def assert_not_blank(path, min_size=(50, 50)):
    """The PNG opens, is at least ``min_size`` (W, H) and not one colour;
    returns it as an RGB array."""
    with Image.open(path) as img:
        assert img.format == 'PNG', path
        assert img.size[0] >= min_size[0] and img.size[1] >= min_size[1]
        pixels = np.asarray(img.convert('RGB'))
    assert pixels.std() > 0, f'{path} is blank'
    return pixels
