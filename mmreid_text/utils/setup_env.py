# Copyright (c) mmreid_text contributors. All rights reserved.
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Make every mmreid_text component available to the registries.

    Importing ``mmreid_text`` (which calling this function implies)
    already imports and registers every component; what is left is the
    default scope.

    Args:
        init_default_scope (bool): Also make ``mmreid_text`` the current
            default scope, so registries resolve our names first. If another
            scope is already current, a new uniquely named ``mmreid_text``
            scope instance is created and a warning is given.
    """
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created(
            'mmreid_text'):
        DefaultScope.get_instance('mmreid_text', scope_name='mmreid_text')
        return
    if current.scope_name != 'mmreid_text':
        warnings.warn('The current default scope '
                      f'"{current.scope_name}" is not "mmreid_text"; '
                      '`register_all_modules` creates a new default scope '
                      'named "mmreid_text-<timestamp>".')
        new_name = f'mmreid_text-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_name, scope_name='mmreid_text')
