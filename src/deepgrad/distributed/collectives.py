"""Collective operations on tensors, as ``torch.distributed``, over MPI's nonblocking calls.

Every collective hands the tensor's NumPy array to MPI as a buffer (no pickling, no copy when
the array is contiguous) and starts a nonblocking MPI call. With ``async_op=True`` the caller
gets the :class:`Work` handle and may compute while the message travels; otherwise the call
waits before returning. Results land in the given tensors, in place, as in PyTorch.

All ranks must call the same collectives in the same order with arrays of the same shape and
dtype; MPI cannot check that, and a mismatch hangs or corrupts the result.

=========================  =====================================================
``ReduceOp``               MPI operation
=========================  =====================================================
``SUM``, ``PRODUCT``       ``MPI_SUM``, ``MPI_PROD`` (bool: logical or / and)
``MIN``, ``MAX``           ``MPI_MIN``, ``MPI_MAX`` (bool: logical and / or)
``AVG``                    ``MPI_SUM`` then division by the world size (floats only)
``BAND``, ``BOR``, ``BXOR``  bitwise operations (integers and bool)
=========================  =====================================================
"""

from __future__ import annotations

import enum

import numpy as np

from deepgrad.distributed.process_group import _mpi, get_comm
from deepgrad.tensor import Tensor


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce`` combine the ranks' tensors elementwise."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


class Work:
    """A started collective: ``wait()`` blocks until its result is in the tensors.

    ``is_completed()`` checks without blocking (and lets MPI make progress on the message).
    """

    def __init__(self, request, finish=None, keep=()) -> None:
        self._request = request
        self._finish = finish
        self._keep = keep  # arrays MPI reads or writes until the request completes
        self._done = False

    def _complete(self) -> None:
        self._done = True
        self._keep = ()
        if self._finish is not None:
            self._finish()
            self._finish = None

    def wait(self, timeout=None) -> bool:
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def result(self) -> list:
        return []


def _array(tensor, name: str, what: str = "tensor") -> np.ndarray:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: {what} must be a deepgrad Tensor, got {type(tensor).__name__}")
    return tensor._data


def _buffer(arr: np.ndarray) -> np.ndarray:
    """A C-contiguous array MPI may write into: ``arr`` itself when it qualifies."""
    if arr.flags.c_contiguous and arr.flags.writeable:
        return arr
    return np.ascontiguousarray(arr)


def _mpi_op(op: ReduceOp, dtype: np.dtype, name: str):
    MPI = _mpi()
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be a deepgrad.distributed.ReduceOp, got {op!r}")
    if dtype.kind == "b":
        table = {
            ReduceOp.SUM: MPI.LOR,
            ReduceOp.MAX: MPI.LOR,
            ReduceOp.BOR: MPI.LOR,
            ReduceOp.PRODUCT: MPI.LAND,
            ReduceOp.MIN: MPI.LAND,
            ReduceOp.BAND: MPI.LAND,
            ReduceOp.BXOR: MPI.LXOR,
        }
    else:
        table = {
            ReduceOp.SUM: MPI.SUM,
            ReduceOp.AVG: MPI.SUM,
            ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX,
            ReduceOp.BAND: MPI.BAND,
            ReduceOp.BOR: MPI.BOR,
            ReduceOp.BXOR: MPI.BXOR,
        }
    if op is ReduceOp.AVG and dtype.kind != "f":
        raise ValueError(
            f"{name}: ReduceOp.AVG needs a floating-point tensor, got {dtype}; the mean of "
            "integers is not an integer. Convert with .double(), or use SUM and divide"
        )
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.kind == "f":
        raise ValueError(
            f"{name}: {op} is bitwise; it needs an integer or bool tensor, not {dtype}"
        )
    return table[op]


def _start(arr: np.ndarray, begin, finish=None, keep=()) -> Work:
    """Run ``begin(buffer) -> request`` on a contiguous buffer of ``arr`` and return a Work that
    copies the buffer back into ``arr`` (when it had to be copied) and runs ``finish``."""
    buf = _buffer(arr)

    def done():
        if finish is not None:
            finish(buf)
        if buf is not arr:
            arr[...] = buf

    return Work(begin(buf), done, (arr, buf, *keep))


def _result(work: Work, async_op: bool):
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` elementwise over all ranks with ``op``; every rank gets the result
    in ``tensor`` (for ``SUM``: :math:`t \\leftarrow \\sum_r t_r`)."""
    comm = get_comm(group)
    arr = _array(tensor, "all_reduce")
    mpi_op = _mpi_op(op, arr.dtype, "all_reduce")
    MPI = _mpi()
    finish = None
    if op is ReduceOp.AVG:
        size = comm.Get_size()

        def finish(buf):
            buf /= size

    return _result(
        _start(arr, lambda b: comm.Iallreduce(MPI.IN_PLACE, b, mpi_op), finish), async_op
    )


def reduce(
    tensor: Tensor,
    dst: int | None = None,
    op: ReduceOp = ReduceOp.SUM,
    group=None,
    async_op: bool = False,
    group_dst: int | None = None,
):
    """Like ``all_reduce``, but only rank ``dst`` receives the result; the other ranks'
    ``tensor`` is left unchanged."""
    comm = get_comm(group)
    dst = _root(dst, group_dst, "reduce", "dst", comm)
    arr = _array(tensor, "reduce")
    mpi_op = _mpi_op(op, arr.dtype, "reduce")
    MPI = _mpi()
    if comm.Get_rank() != dst:
        send = np.ascontiguousarray(arr)
        return _result(Work(comm.Ireduce(send, None, mpi_op, root=dst), keep=(send,)), async_op)
    finish = None
    if op is ReduceOp.AVG:
        size = comm.Get_size()

        def finish(buf):
            buf /= size

    work = _start(arr, lambda b: comm.Ireduce(MPI.IN_PLACE, b, mpi_op, root=dst), finish)
    return _result(work, async_op)


def broadcast(
    tensor: Tensor,
    src: int | None = None,
    group=None,
    async_op: bool = False,
    group_src: int | None = None,
):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank."""
    comm = get_comm(group)
    src = _root(src, group_src, "broadcast", "src", comm)
    arr = _array(tensor, "broadcast")
    return _result(_start(arr, lambda b: comm.Ibcast(b, root=src)), async_op)


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """``tensor_list[r]`` receives rank ``r``'s ``tensor``, on every rank."""
    comm = get_comm(group)
    arr = _array(tensor, "all_gather")
    outs = _check_list(tensor_list, arr, comm.Get_size(), "all_gather", "tensor_list")
    send = np.ascontiguousarray(arr)
    recv = np.empty((len(outs), *arr.shape), dtype=arr.dtype)

    def finish():
        for out, part in zip(outs, recv):
            out[...] = part

    work = Work(comm.Iallgather(send, recv), finish, (send, recv))
    return _result(work, async_op)


def gather(
    tensor: Tensor,
    gather_list: list | None = None,
    dst: int | None = None,
    group=None,
    async_op: bool = False,
    group_dst: int | None = None,
):
    """Rank ``dst`` receives every rank's ``tensor`` in ``gather_list`` (None elsewhere)."""
    comm = get_comm(group)
    dst = _root(0 if dst is None and group_dst is None else dst, group_dst, "gather", "dst", comm)
    arr = _array(tensor, "gather")
    send = np.ascontiguousarray(arr)
    if comm.Get_rank() != dst:
        if gather_list:
            raise ValueError(f"gather: gather_list must be empty on ranks other than dst={dst}")
        return _result(Work(comm.Igather(send, None, root=dst), keep=(send,)), async_op)
    outs = _check_list(gather_list, arr, comm.Get_size(), "gather", "gather_list")
    recv = np.empty((len(outs), *arr.shape), dtype=arr.dtype)

    def finish():
        for out, part in zip(outs, recv):
            out[...] = part

    return _result(Work(comm.Igather(send, recv, root=dst), finish, (send, recv)), async_op)


def scatter(
    tensor: Tensor,
    scatter_list: list | None = None,
    src: int | None = None,
    group=None,
    async_op: bool = False,
    group_src: int | None = None,
):
    """Rank ``r`` receives ``scatter_list[r]`` of rank ``src`` in ``tensor``."""
    comm = get_comm(group)
    src = _root(0 if src is None and group_src is None else src, group_src, "scatter", "src", comm)
    arr = _array(tensor, "scatter")
    if comm.Get_rank() == src:
        parts = _check_list(scatter_list, arr, comm.Get_size(), "scatter", "scatter_list")
        send = np.ascontiguousarray(np.stack(parts))
    else:
        if scatter_list:
            raise ValueError(f"scatter: scatter_list must be empty on ranks other than src={src}")
        send = None
    return _result(_start(arr, lambda b: comm.Iscatter(send, b, root=src), keep=(send,)), async_op)


def barrier(group=None, async_op: bool = False, device_ids=None, timeout=None):
    """Wait until every rank has reached this call."""
    comm = get_comm(group)
    return _result(Work(comm.Ibarrier()), async_op)


def _root(root, group_root, name: str, what: str, comm) -> int:
    if root is None:
        root = group_root
    if root is None:
        raise ValueError(
            f"{name}: pass the rank to {'send from' if what == 'src' else 'send to'} as {what}="
        )
    size = comm.Get_size()
    if not 0 <= root < size:
        raise ValueError(
            f"{name}: {what}={root} is not a rank of this world of {size} (0..{size - 1})"
        )
    return int(root)


def _check_list(tensors, arr: np.ndarray, size: int, name: str, what: str) -> list[np.ndarray]:
    if tensors is None or len(tensors) != size:
        got = "None" if tensors is None else f"{len(tensors)} tensors"
        raise ValueError(f"{name}: {what} must hold one tensor per rank ({size}), got {got}")
    out = []
    for i, t in enumerate(tensors):
        a = _array(t, name, f"{what}[{i}]")
        if a.shape != arr.shape or a.dtype != arr.dtype:
            raise ValueError(
                f"{name}: {what}[{i}] has shape {tuple(a.shape)} and dtype {a.dtype}, but the "
                f"tensor has shape {tuple(arr.shape)} and dtype {arr.dtype}; they must match"
            )
        out.append(a)
    return out
