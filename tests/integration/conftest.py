# conftest.py - pytest glue for the integration tests: decides per test whether it runs
# directly on this host or in the lab (by its `needs` marker), shares one L1 boot, reports it.
"""Markers and fixtures (full guide: docs/testing.md):

  @pytest.mark.needs("32bit-paging", ...)  capabilities the test needs; one the host lacks
                                           (./mini-kvm --check-host) sends it to the lab.
                                           "lab" = always in the lab.
  @pytest.mark.nokvm                       runs without /dev/kvm (tests of the tooling)
  results   mapping name -> Result for the module's COMMANDS dict; in the lab all
            modules' COMMANDS run in ONE L1 boot per session
  run       run(cmd or Cmd) -> Result, on its own (an own L1 boot in the lab)
  host      .caps (set), .summary, .can(cap)

Option --lab=auto|always|never: auto = lab only when needed; always = every test using
`results`/`run` runs in the lab; never = skip tests that need the lab.
"""
import os
import shutil
import time

import pytest

import harness

STATE = pytest.StashKey()
LAB_FIXTURES = {"results", "run"}


class Host:
    def __init__(self):
        self.caps, self.summary = harness.check_host()
        dev = "/dev/kvm"
        self.kvm = os.path.exists(dev) and os.access(dev, os.R_OK | os.W_OK)

    def can(self, cap):
        return cap in self.caps


class State:
    def __init__(self, host, lab_opt):
        self.host, self.lab_opt = host, lab_opt
        self.lab_modules = []       # modules whose COMMANDS go into the shared boot
        self.batch = None           # {(module name, key): Result} or a LabFailed
        self.direct = {}            # {(module name, key): Result}
        self.boots = []             # (what, commands, seconds, log)


def pytest_addoption(parser):
    parser.addoption("--lab", choices=["auto", "always", "never"], default="auto",
                     help="auto: lab only for tests that need it; always: every test using "
                          "the results/run fixtures in the lab; never: skip tests needing the lab")


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(*caps): host capabilities the test needs "
                            "(else it runs in the lab); 'lab' = always in the lab")
    config.addinivalue_line("markers", "nokvm: the test does not need /dev/kvm on the host")


def pytest_sessionstart(session):
    host = Host()
    if os.environ.get("CI") == "true" and not host.kvm:
        pytest.exit("CI=true and /dev/kvm is missing or not read-write: that is a failure here",
                    returncode=1)
    session.config.stash[STATE] = State(host, session.config.getoption("--lab"))


def pytest_report_header(config):
    st = config.stash.get(STATE, None)
    if st:
        return ["mini-kvm: %s; /dev/kvm %s; --lab=%s" % (
            st.host.summary, "usable" if st.host.kvm else "MISSING", st.lab_opt)]


@pytest.fixture(autouse=True)
def sanitizer_clean():
    """With $MINI_KVM (the ASan+UBSan pass of make check): a sanitizer report written by
    any process since the last check fails this test, whatever the test asserted."""
    yield
    new = harness.new_sanitizer_reports()
    if new:
        pytest.fail("sanitizer report(s) from %s:\n%s" % (
            harness.MKVM, "\n".join("--- %s ---\n%s" % kv for kv in new.items())))


def pytest_sessionfinish(session):
    """Reports no test claimed (e.g. from --check-host after the last test) fail the run."""
    new = harness.new_sanitizer_reports()
    if new:
        print("\nsanitizer report(s) outside any test:\n" + "\n".join(new.values()))
        session.exitstatus = 1
    elif harness.SANITIZER_LOGS:
        shutil.rmtree(harness.SANITIZER_LOGS, ignore_errors=True)


def needs_of(item):
    return {c for m in item.iter_markers("needs") for c in m.args}


def mode_of(item, st):
    """'lab', 'direct' or 'skip:<reason>'."""
    lacking = needs_of(item) - st.host.caps
    uses_lab = bool(LAB_FIXTURES & set(item.fixturenames))
    if lacking and st.lab_opt == "never":
        return "skip:needs %s (host lacks it) and --lab=never" % ", ".join(sorted(lacking))
    if lacking or (st.lab_opt == "always" and uses_lab):
        return "lab"
    return "direct"


def pytest_collection_modifyitems(session, config, items):
    st = config.stash[STATE]
    for item in items:
        mode = mode_of(item, st)
        item.stash[STATE] = mode
        if mode.startswith("skip:"):
            item.add_marker(pytest.mark.skip(reason=mode[5:]))
        elif mode == "lab" and "results" in item.fixturenames and item.module not in st.lab_modules:
            st.lab_modules.append(item.module)
        item.user_properties.append(("where", "in the lab" if mode == "lab" else "direct"))


def pytest_runtest_setup(item):
    st, mode = item.config.stash[STATE], item.stash.get(STATE, "direct")
    if mode == "lab" and not LAB_FIXTURES & set(item.fixturenames):
        pytest.fail("%s needs %s, which this host lacks, but uses neither the `results` nor the "
                    "`run` fixture, so it cannot run in the lab" % (
                        item.name, ", ".join(sorted(needs_of(item) - st.host.caps))), pytrace=False)
    if mode == "direct" and not st.host.kvm and item.get_closest_marker("nokvm") is None:
        pytest.skip("/dev/kvm is missing or not read-write")


def pytest_report_teststatus(report, config):
    where = dict(report.user_properties).get("where")
    if report.when != "call" or not where or hasattr(report, "wasxfail"):
        return None
    word = {"passed": "PASSED", "failed": "FAILED", "skipped": "SKIPPED"}[report.outcome]
    short = {"passed": ".", "failed": "F", "skipped": "s"}[report.outcome]
    return report.outcome, short, "%s (%s)" % (word, where)


def pytest_terminal_summary(terminalreporter, config):
    st = config.stash.get(STATE, None)
    for what, n, secs, log in (st.boots if st else []):
        terminalreporter.write_line("lab: %s: %d command(s) in one L1 boot, %.1f s; console log %s"
                                    % (what, n, secs, os.path.relpath(log, harness.REPO)))


# ---- fixtures ----

@pytest.fixture(scope="session")
def host(request):
    return request.config.stash[STATE].host


def _module_commands(module):
    cmds = getattr(module, "COMMANDS", None)
    if not isinstance(cmds, dict):
        raise pytest.UsageError("%s: the `results` fixture needs a module-level COMMANDS dict "
                                "(name -> command string or harness.Cmd)" % module.__name__)
    return cmds


def _run_shared_batch(st):
    keys, cmds = [], []
    for mod in st.lab_modules:
        for name, cmd in _module_commands(mod).items():
            keys.append((mod.__name__, name))
            cmds.append(cmd)
    cpus = max([getattr(m, "LAB_CPUS", 1) for m in st.lab_modules] or [1])
    start = time.monotonic()
    try:
        res, log = harness.run_in_lab(cmds, cpus=cpus)
        st.batch = dict(zip(keys, res))
        st.boots.append(("shared batch of %d module(s)" % len(st.lab_modules), len(cmds),
                         time.monotonic() - start, log))
    except harness.LabFailed as e:
        st.batch = e
    except BaseException as e:      # e.g. pytest-timeout: do not boot the batch again
        st.batch = harness.LabFailed("the shared batch was interrupted (%s)" % type(e).__name__)
        raise


class _Results:
    def __init__(self, st, module, mode):
        self.st, self.module, self.mode = st, module, mode
        self.cmds = _module_commands(module)

    def __getitem__(self, name):
        if name not in self.cmds:
            raise KeyError("%s has no COMMANDS[%r]" % (self.module.__name__, name))
        key = (self.module.__name__, name)
        if self.mode == "lab":
            if self.st.batch is None:
                _run_shared_batch(self.st)
            if isinstance(self.st.batch, Exception):
                pytest.fail("the lab failed: %s" % self.st.batch, pytrace=False)
            return self.st.batch[key]
        if key not in self.st.direct:
            self.st.direct[key] = harness.run_direct(self.cmds[name])
        return self.st.direct[key]


@pytest.fixture
def results(request):
    st = request.config.stash[STATE]
    return _Results(st, request.module, request.node.stash.get(STATE, "direct"))


@pytest.fixture
def run(request):
    st = request.config.stash[STATE]
    mode = request.node.stash.get(STATE, "direct")

    def _run(cmd, **kw):
        cmd = harness.Cmd(cmd, **kw) if isinstance(cmd, str) else cmd
        if mode != "lab":
            return harness.run_direct(cmd)
        start = time.monotonic()
        try:
            (res,), log = harness.run_in_lab([cmd], cpus=getattr(request.module, "LAB_CPUS", 1))
        except harness.LabFailed as e:
            pytest.fail("the lab failed: %s" % e, pytrace=False)
        st.boots.append((request.node.name, 1, time.monotonic() - start, log))
        return res
    return _run
