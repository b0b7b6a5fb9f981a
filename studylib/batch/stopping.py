"""How a batch hears that it must stop: Ctrl-C, ``kill``, a closed terminal.

A shell that starts a job in the background (``&``, ``nohup``, many IDEs and CI runners)
leaves SIGINT *ignored* in it, and Python then never raises KeyboardInterrupt: a batch that
relied on it could not be stopped with ``kill -INT``. :class:`Stopper` installs its own
handlers for SIGINT, SIGTERM and SIGHUP whatever state they were inherited in (SIGHUP stays
ignored under ``nohup``, which asks for exactly that), and puts the previous ones back when
the run ends.

While the run is being planned nothing has been written, so a signal raises
:class:`RunStopped` at once. Once notebooks run, a signal only sets a flag that the runner
checks between results, so that no record is cut in half; a second signal asks it to stop
waiting for the notebooks in progress.
"""

from __future__ import annotations

import signal
import threading

__all__ = ["Stopper", "RunStopped", "signal_name"]

#: SIGHUP is absent on Windows
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def signal_name(signum: int) -> str:
    """How people call a signal: ``Ctrl-C`` for SIGINT, else its name."""
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


class RunStopped(KeyboardInterrupt):
    """A signal stopped the run before any notebook ran (nothing was written)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Stopper:
    """The stop signals of one run (a context manager; a no-op outside the main thread,
    where Python delivers no signals)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.count = 0
        self._raising = True
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Stopper:
        if threading.current_thread() is not threading.main_thread():
            return self
        for signum in STOP_SIGNALS:
            current = signal.getsignal(signum)
            if signum != signal.SIGINT and current is signal.SIG_IGN:
                continue  # nohup ignores SIGHUP on purpose (and SIGTERM ignored is a choice)
            self._previous[signum] = current
            signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def _handle(self, signum, frame) -> None:
        self.count += 1
        if self.signum is None:
            self.signum = signum
        if self._raising:
            raise RunStopped(signum)

    def check(self) -> None:
        """Raise :class:`RunStopped` if a signal arrived (while planning)."""
        if self.signum is not None:
            raise RunStopped(self.signum)

    def defer(self) -> None:
        """From now on a signal is only noted: the runner stops between two records."""
        self._raising = False

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def hurried(self) -> bool:
        """A second signal: stop waiting for the notebooks in progress."""
        return self.count >= 2
