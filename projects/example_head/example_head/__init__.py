# Copyright (c) mmreid_text contributors. All rights reserved.
"""Example plugin package for mmreid_text (see ../README.md).

Importing it registers :class:`CosineMarginHead` in mmreid_text's
``MODELS`` registry; a config loads it with
``custom_imports = dict(imports=['mmreid_text', 'example_head'])``.
"""
from .cosine_head import CosineMarginHead

__all__ = ['CosineMarginHead']
