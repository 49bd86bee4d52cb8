# Copyright (c) mmreid_text contributors. All rights reserved.
import os.path as osp
from setuptools import find_packages, setup


def read_requirements(name):
    path = osp.join(osp.dirname(__file__), 'requirements', name)
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith(('#', '-'))
        ]


def read_version():
    scope = {}
    with open(osp.join('mmreid_text', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmreid_text',
    version=read_version(),
    description='CLIP + language re-identification plugin for OpenMMLab',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    # the tiny CLIP architectures (arch='clip-tiny', ...)
    package_data={'mmreid_text.models.utils': ['model_configs/*.json']},
    python_requires='>=3.9',
    install_requires=read_requirements('runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    license='Apache License 2.0',
    zip_safe=False)
