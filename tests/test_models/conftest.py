# Copyright (c) mmreid_text contributors. All rights reserved.
import pytest

from mmreid_text.registry import MODELS


@pytest.fixture(scope='module')
def test_modules(request):
    """Register the test module's ``TEST_MODULES`` (``{name: class}``) in
    ``MODELS`` for that module's tests only; removed again afterwards.

    Use with ``pytestmark = pytest.mark.usefixtures('test_modules')``.
    """
    modules = request.module.TEST_MODULES
    for name, cls in modules.items():
        MODELS.register_module(name=name, module=cls, force=True)
    yield
    for name in modules:
        MODELS.module_dict.pop(name, None)
