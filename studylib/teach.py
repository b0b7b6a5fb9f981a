"""Serving the protocol tour to a class (``make teach``): a bounded number of kernels.

Voilà starts one kernel (about 155 MB) for every page view of the tour and keeps it until
the kernel is culled; a class whose members reload the page would exhaust the machine's
memory. ``make teach`` therefore serves it with:

- idle kernels culled after a few minutes (``MappingKernelManager.cull_idle_timeout``), also
  those whose page is still open (``cull_connected``): a reader coming back reloads;
- at most :attr:`BoundedKernelManager.max_kernels` kernels: at the limit, a new page first
  takes the place of the longest-idle kernel no page is connected to (a visitor who left),
  and otherwise gets "503: the tour is full" with what to do, instead of a kernel.

Only Voilà imports this module (``--VoilaConfiguration.multi_kernel_manager_class``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import ensure_async
from tornado.web import HTTPError
from traitlets import Integer

__all__ = ["BoundedKernelManager"]


class BoundedKernelManager(AsyncMappingKernelManager):
    """Voilà's kernel manager, with a limit on the number of kernels."""

    max_kernels = Integer(
        20,
        config=True,
        help="The most kernels at once (one per open tour page); at the limit, the longest"
        " idle kernel without a page gives way, else the new page is refused (503).",
    )
    unattended_after_s = Integer(
        30,
        config=True,
        help="Seconds without activity after which a kernel no page is connected to may give"
        " way to a new visitor (its page was closed or reloaded).",
    )

    def _unattended(self) -> list[str]:
        """Kernels no page is connected to, idle long enough, longest idle first."""
        now = datetime.now(UTC)
        found = []
        for kernel_id in self.list_kernel_ids():
            kernel = self._kernels[kernel_id]
            last = getattr(kernel, "last_activity", None)
            if last is None or self._kernel_connections.get(kernel_id, 0):
                continue
            if getattr(kernel, "execution_state", None) == "busy":
                continue  # a page being rendered: its visitor is waiting for it
            if now - last > timedelta(seconds=self.unattended_after_s):
                found.append((last, kernel_id))
        return [kernel_id for _, kernel_id in sorted(found)]

    async def start_kernel(self, *args, **kwargs):
        """Start a kernel unless the limit is reached and no kernel can give way."""
        if len(self.list_kernel_ids()) >= self.max_kernels:
            for kernel_id in self._unattended()[:1]:
                self.log.warning("At %d kernels: culling %s", self.max_kernels, kernel_id)
                await ensure_async(self.shutdown_kernel(kernel_id))
        if len(self.list_kernel_ids()) >= self.max_kernels:
            raise HTTPError(
                503,
                f"the tour is full: {self.max_kernels} pages are open, its limit. Close a tour"
                " page you no longer read, or try again in a few minutes (idle pages are"
                " closed after a few minutes).",
                reason="The tour is full",
            )
        return await super().start_kernel(*args, **kwargs)
