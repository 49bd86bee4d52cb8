# Copyright (c) mmreid_text contributors. All rights reserved.
"""Child registries of the ``mmreid_text`` scope.

Every registry type used by mmreid_text configs has a child node here whose
parent is the matching mmpretrain registry (itself a child of mmengine's
root; mmengine's root directly for FUNCTIONS and MODEL_WRAPPERS).
Unprefixed mmpretrain names therefore resolve from our configs
(``type='RandomErasing'``), mmengine's root types too
(``type='OptimWrapper'``), and mmengine finds this scope through
``import mmreid_text.registry`` when ``default_scope='mmreid_text'`` is set.

mmpretrain registers its components when its modules are imported, and
mmengine does not import a parent's ``locations`` when searching it, so
mmpretrain's modules are listed in our ``locations`` too.
"""
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import Registry
from mmpretrain.registry import DATA_SAMPLERS as MMPRE_DATA_SAMPLERS
from mmpretrain.registry import DATASETS as MMPRE_DATASETS
from mmpretrain.registry import EVALUATORS as MMPRE_EVALUATORS
from mmpretrain.registry import HOOKS as MMPRE_HOOKS
from mmpretrain.registry import LOG_PROCESSORS as MMPRE_LOG_PROCESSORS
from mmpretrain.registry import LOOPS as MMPRE_LOOPS
from mmpretrain.registry import METRICS as MMPRE_METRICS
from mmpretrain.registry import MODELS as MMPRE_MODELS
from mmpretrain.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMPRE_OPTIM_WRAPPER_CONSTRUCTORS
from mmpretrain.registry import OPTIM_WRAPPERS as MMPRE_OPTIM_WRAPPERS
from mmpretrain.registry import OPTIMIZERS as MMPRE_OPTIMIZERS
from mmpretrain.registry import PARAM_SCHEDULERS as MMPRE_PARAM_SCHEDULERS
from mmpretrain.registry import \
    RUNNER_CONSTRUCTORS as MMPRE_RUNNER_CONSTRUCTORS
from mmpretrain.registry import RUNNERS as MMPRE_RUNNERS
from mmpretrain.registry import TASK_UTILS as MMPRE_TASK_UTILS
from mmpretrain.registry import TRANSFORMS as MMPRE_TRANSFORMS
from mmpretrain.registry import VISBACKENDS as MMPRE_VISBACKENDS
from mmpretrain.registry import VISUALIZERS as MMPRE_VISUALIZERS
from mmpretrain.registry import \
    WEIGHT_INITIALIZERS as MMPRE_WEIGHT_INITIALIZERS

SCOPE = 'mmreid_text'


def _child(name: str, parent: Registry, locations: list) -> Registry:
    return Registry(name, parent=parent, scope=SCOPE, locations=locations)


# runtime
RUNNERS = _child('runner', MMPRE_RUNNERS, ['mmreid_text.engine'])
RUNNER_CONSTRUCTORS = _child('runner constructor', MMPRE_RUNNER_CONSTRUCTORS,
                             ['mmreid_text.engine'])
LOOPS = _child('loop', MMPRE_LOOPS, ['mmreid_text.engine'])
HOOKS = _child('hook', MMPRE_HOOKS,
               ['mmreid_text.engine', 'mmpretrain.engine'])
LOG_PROCESSORS = _child('log processor', MMPRE_LOG_PROCESSORS,
                        ['mmreid_text.engine'])
OPTIMIZERS = _child('optimizer', MMPRE_OPTIMIZERS, ['mmreid_text.engine'])
OPTIM_WRAPPERS = _child('optim_wrapper', MMPRE_OPTIM_WRAPPERS,
                        ['mmreid_text.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMPRE_OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['mmreid_text.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler', MMPRE_PARAM_SCHEDULERS,
                          ['mmreid_text.engine'])
FUNCTIONS = _child('function', MMENGINE_FUNCTIONS, ['mmreid_text.datasets'])

# data
DATASETS = _child('dataset', MMPRE_DATASETS,
                  ['mmreid_text.datasets', 'mmpretrain.datasets'])
DATA_SAMPLERS = _child('data sampler', MMPRE_DATA_SAMPLERS,
                       ['mmreid_text.datasets.samplers'])
TRANSFORMS = _child('transform', MMPRE_TRANSFORMS,
                    ['mmreid_text.datasets.transforms', 'mmpretrain.datasets'])

# models
MODELS = _child('model', MMPRE_MODELS,
                ['mmreid_text.models', 'mmpretrain.models'])
# mmengine's runner looks wrappers up on its root registry with a scope
# prefix ('mmreid_text.X'), which finds only direct children of the root;
# mmpretrain defines no wrappers, so this node hangs on the root itself.
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS,
                        ['mmreid_text.models.wrappers'])
WEIGHT_INITIALIZERS = _child('weight initializer', MMPRE_WEIGHT_INITIALIZERS,
                             ['mmreid_text.models'])
TASK_UTILS = _child('task util', MMPRE_TASK_UTILS, ['mmreid_text.models'])

# evaluation
METRICS = _child('metric', MMPRE_METRICS,
                 ['mmreid_text.evaluation', 'mmpretrain.evaluation'])
EVALUATOR = _child('evaluator', MMPRE_EVALUATORS, ['mmreid_text.evaluation'])

# visualisation
VISUALIZERS = _child('visualizer', MMPRE_VISUALIZERS,
                     ['mmreid_text.visualization', 'mmpretrain.visualization'])
VISBACKENDS = _child('vis_backend', MMPRE_VISBACKENDS,
                     ['mmreid_text.visualization'])

# mmreid_text's own registry (not a child of any mmengine root): evaluation
# protocols decide which gallery entries are ignored for each query.
REID_PROTOCOLS = Registry(
    'reid protocol', scope=SCOPE, locations=['mmreid_text.evaluation'])
