# Copyright (c) mmreid_text contributors. All rights reserved.
"""Shrinking a method config's component sizes for tiny test models."""


def shrink_sizes(node, sizes: dict) -> None:
    """Replace, in place and at any depth of dicts / lists, every integer
    value whose key is in ``sizes`` by ``sizes[key]`` (e.g. the 512-d text
    width of a ViT-B/16 config by clip-tiny's 128)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in sizes and isinstance(value, int):
                node[key] = sizes[key]
            else:
                shrink_sizes(value, sizes)
    elif isinstance(node, list):
        for value in node:
            shrink_sizes(value, sizes)
