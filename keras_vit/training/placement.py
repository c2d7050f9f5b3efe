"""A run's place in a job of several devices or processes: its scope, its batch, who writes.

`keras_vit.training.train` trains over several devices or processes through
`placement_for`. Every process of a multi-process job runs the same
`train(config)` with the same global `batch_size`: Keras splits each batch of
the input pipeline between the processes (JAX: `Distribution.distribute_dataset`,
TensorFlow: `Strategy.experimental_distribute_dataset`), so every optimizer step
sees exactly the batch a single process would. Process 0 (TensorFlow: the
chief, else worker 0) alone writes checkpoints, logs and the model; the others
read the same output folder when they resume, so it must be on storage they
all see.
"""

import contextlib
import dataclasses

import keras

from keras_vit.training.distribution import distribute


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where a run's computation happens and which of its processes writes.

    Attributes:
        strategy: None (one device), the `keras.distribution.Distribution` set
            globally (JAX), or the `tf.distribute.Strategy` (TensorFlow) whose
            scope must hold building and compiling the model.
        process_id: int. This process' index in the job, 0 to `num_processes - 1`.
        num_processes: int. Processes in the job.
        batch_splits: int. The number of pieces each global batch is split
            into (data-parallel replicas); the batch size must be a multiple.
    """

    strategy: object = None
    process_id: int = 0
    num_processes: int = 1
    batch_splits: int = 1

    @property
    def writes(self):
        """Whether this process writes the run's files: process 0 does."""
        return self.process_id == 0

    def scope(self):
        """The context to build and compile the model in."""
        if hasattr(self.strategy, "scope"):
            return self.strategy.scope()
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def saving(self, model):
        """Entered by every process around a save; yields whether this one writes.

        On JAX, weights sharded over devices of other processes (`kind="model"`
        across processes) are first gathered in every process, a collective
        that each process must join, and restored afterwards; the save itself
        runs with no distribution set, since Keras' saving creates variables
        and a variable created under one is placed by a collective too.
        """
        if self._jax_processes:
            with _gathered(model), _no_distribution():
                yield self.writes
        else:
            yield self.writes

    @property
    def _jax_processes(self):
        return self.num_processes > 1 and keras.backend.backend() == "jax"

    @property
    def pads_evaluation(self):
        """Whether evaluation batches must all be whole: Keras shards a dataset
        between JAX processes only when its batch size is known."""
        return self._jax_processes

    def check_batch(self, batch_size):
        """Refuses a global batch that does not split evenly between the replicas."""
        if batch_size % self.batch_splits:
            raise ValueError(
                f"`batch_size` is the global batch, split between {self.batch_splits} data-parallel "
                f"replicas, so it must be a multiple of {self.batch_splits}. Received: batch_size={batch_size}"
            )
        return batch_size


def placement_for(kind=None, model_parallel=2, multi_worker=False):
    """Sets up `kind` of distribution (`keras_vit.training.distribute`) and says where this process is.

    Args:
        kind: None (one device, one process), `"data"` or `"model"`.
        model_parallel: int. Devices per model replica for `kind="model"`.
        multi_worker: bool. Join a multi-process job first (environment
            variables, see `distribute`).

    Returns:
        A `Placement`.
    """
    if kind is None:
        if multi_worker:
            raise ValueError(
                "`multi_worker=True` needs a kind of distribution: pass distribute='data' or 'model' "
                "(--distribute data|model). Received: distribute=None"
            )
        return Placement()
    strategy = distribute(kind, model_parallel=model_parallel, multi_worker=multi_worker)
    if keras.backend.backend() == "jax":
        return _jax_placement(strategy)
    return _tensorflow_placement(strategy)


def _jax_placement(distribution):
    import jax

    mesh = distribution.device_mesh
    batch_axis = mesh.axis_names.index(distribution.batch_dim_name)
    return Placement(distribution, jax.process_index(), jax.process_count(), mesh.shape[batch_axis])


def _tensorflow_placement(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    jobs = resolver.cluster_spec().as_dict() if resolver is not None else {}
    if not jobs:
        return Placement(strategy, 0, 1, strategy.num_replicas_in_sync)
    # The chief, if the cluster has one, is process 0; then the workers in order.
    order = [(job, task) for job in ("chief", "worker") for task in range(len(jobs.get(job, ())))]
    process_id = order.index((resolver.task_type, resolver.task_id))
    return Placement(strategy, process_id, len(order), strategy.num_replicas_in_sync)


def prepare_fit(model, placement, element_spec):
    """Makes Keras 3.15's `fit` under a TensorFlow strategy train as on one device.

    Does nothing on one device, and on JAX, whose steps are computed for the
    global batch. On TensorFlow, Keras' trainer has three faults that this
    works around on `model` and its optimizer (each checked by a test in
    `tests/training/test_multi_process.py` that plain Keras still has it, so
    that the workaround goes when Keras is fixed):

    - Gradients are clipped (`global_clipnorm`, every recipe's 1) per replica,
      before the replicas' partial gradients are summed, so the clip sees a
      part of the gradient. Here the optimizer sums them across replicas
      first, clips the sum and hands each replica its share of it.
    - Under `MultiWorkerMirroredStrategy`, before the first step Keras reduces
      a first input batch across the workers to build the model symbolically
      (`PerReplica` values cannot become a tensor): the model is built here
      from the input's `element_spec`, and Keras' build step skipped.
    - Under it too, each step's scalar logs are averaged across workers along
      axis 0, which a scalar does not have: each step's logs get that axis
      (shape `(1,)`), which the average removes again.

    Args:
        model: a Keras model, built and compiled in `placement.scope()`.
        placement: `Placement`.
        element_spec: the training dataset's `element_spec`.
    """
    if keras.backend.backend() != "tensorflow" or placement.strategy is None:
        return
    if placement.strategy.num_replicas_in_sync > 1:
        _clip_after_summing(model.optimizer, placement.strategy.num_replicas_in_sync)
    if placement.num_processes > 1:
        with placement.scope():
            model._symbolic_build(data_batch=element_spec)
        model.__dict__["_maybe_symbolic_build"] = lambda iterator=None, data_batch=None: None
        for name in ("train_step", "test_step"):
            model.__dict__[name] = _with_log_axis(getattr(model, name))


def _clip_after_summing(optimizer, replicas):
    """Clips the replicas' summed gradients, and gives each replica `1/replicas` of
    the clipped sum (the optimizer's update then sums them again)."""
    import tensorflow as tf

    if not (optimizer.global_clipnorm or optimizer.clipnorm or optimizer.clipvalue):
        return
    clip = optimizer._clip_gradients

    def clip_summed(grads):
        summed = tf.distribute.get_replica_context().all_reduce("SUM", grads)
        return [grad / replicas for grad in clip(summed)]

    optimizer.__dict__["_clip_gradients"] = clip_summed


def _with_log_axis(step):
    def step_with_axis(data):
        return {name: keras.ops.reshape(value, (1,)) for name, value in step(data).items()}

    return step_with_axis


def host_weights(model, placement):
    """`model`'s weights as NumPy arrays, whole in every process of `placement`'s job.

    On JAX, weights sharded between processes are gathered: every process
    must call this, in the same order as its other collectives.

    Args:
        model: a Keras model trained under `placement`.
        placement: `Placement`.

    Returns:
        A list of NumPy arrays, in `model.weights`' order.
    """
    with placement.saving(model):
        return [keras.ops.convert_to_numpy(weight.value) for weight in model.weights]


@contextlib.contextmanager
def _no_distribution():
    current = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(current)


@contextlib.contextmanager
def _gathered(model):
    """Swaps every variable sharded over several processes for a replicated copy, and back."""
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    variables = list(model.variables)
    if getattr(model, "optimizer", None) is not None:
        variables += list(model.optimizer.variables)
    swapped = []
    for variable in variables:
        value = variable.value
        if not isinstance(value, jax.Array) or value.is_fully_replicated:
            continue
        replicated = NamedSharding(value.sharding.mesh, PartitionSpec())
        swapped.append((variable, value))
        variable._value = jax.jit(lambda x: x, out_shardings=replicated)(value)
    try:
        yield
    finally:
        for variable, value in swapped:
            variable._value = value
