"""Chaos suite of the whole pipeline (issue 17): real ``lineage ingest`` processes on real files, a real
embedded FalkorDB, real faults.

Scenarios: ``kill -9`` of ``lineage ingest`` and of the graph server at seeded random times, a full
disk (a small tmpfs), corrupted state files (parse cache, parse results, manifest, sensor state,
dead-letter file), hostile identifiers and paths, and a time-bounded fuzz corpus. Every trial ends by
comparing the canonical dump of the faulted data dir (every node and relationship, all properties:
``graph.dump``) with a clean ingest of the same corpus into a fresh data dir, computed once per corpus.

Each scenario is seeded (``random.Random(seed)``) and bounded (a few trials), so the suite runs in CI
in a few minutes on two cores. At the end of the module a table gives, per scenario, the trials, how
many the pipeline survived (the rerun succeeded, no traceback) and how many ended identical to the
clean ingest, and the fuzz figures (inputs tried, unhandled).
"""

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import falkordb
import pytest

from benchmarks.generate import generate_corpus
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.dump import GraphDump, canonical_dump
from lineage_pipeline.graph.embedded_server import server_status, stop_server
from lineage_pipeline.settings import PROJECT_ROOT
from lineage_pipeline.stores.parse_results import ParseResults
from lineage_pipeline_tests.small_fs import fill, mounted_tmpfs

pytestmark = pytest.mark.integration

VENV_BIN = Path(sys.executable).parent
DEMO_CORPUS = PROJECT_ROOT / "examples" / "bank_corpus"
GRAPH_NAME = "lineage"
INGEST_TIMEOUT_S = 240
TRACEBACK = "Traceback (most recent call last)"


# -- the report ------------------------------------------------------------------------------------


@dataclass
class Tally:
    trials: int = 0
    survived: int = 0
    identical: int = 0
    notes: list[str] = field(default_factory=list)


REPORT: dict[str, Tally] = {}
FUZZ = {"tried": 0, "unhandled": 0}


def tally(scenario: str) -> Tally:
    return REPORT.setdefault(scenario, Tally())


@pytest.fixture(scope="module", autouse=True)
def chaos_report(request, tmp_path_factory):
    """Print (and save next to the temp dirs) per scenario: trials, survived, identical-to-clean."""
    yield REPORT
    lines = [f"{name}: trials {t.trials}, survived {t.survived}, identical-to-clean {t.identical}" for name, t in REPORT.items()]
    total = sum(t.trials for t in REPORT.values())
    survived = sum(t.survived for t in REPORT.values())
    identical = sum(t.identical for t in REPORT.values())
    lines.append(f"faults survived {survived}/{total}, identical to clean {identical}/{total}")
    lines.append(f"bad inputs (fuzz and hostile) tried {FUZZ['tried']} with {FUZZ['unhandled']} unhandled")
    for name, t in REPORT.items():
        lines += [f"  {name}: {note}" for note in t.notes]
    text = "\n".join(lines)
    (tmp_path_factory.getbasetemp() / "chaos_report.txt").write_text(text + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(text)
        return
    with capture.global_and_fixture_disabled():  # shown even when the tests pass, whatever -s/-q
        reporter.write_line("")
        reporter.write_sep("-", "ingest chaos report")
        for line in lines:
            reporter.write_line(line)


# -- sites: a corpus, a data dir, a Dagster home ---------------------------------------------------


@dataclass
class Site:
    """One isolated installation: a corpus, its data dir and Dagster home; runs ``lineage`` as a process."""

    corpus: Path
    data_dir: Path
    dagster_home: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def make(cls, root: Path, corpus: Path, data_dir: Path | None = None, **extra_env: str) -> "Site":
        root.mkdir(parents=True, exist_ok=True)
        home = root / "dagster_home"
        home.mkdir(exist_ok=True)
        shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
        return cls(corpus, data_dir or root / "data", home, extra_env)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LINEAGE_CORPUS_ROOT": str(self.corpus),
            "LINEAGE_DATA_DIR": str(self.data_dir),
            "DAGSTER_HOME": str(self.dagster_home),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            **self.extra_env,
        }

    def lineage(self, *args: str, timeout: float = INGEST_TIMEOUT_S) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(VENV_BIN / "lineage"), *args], env=self.env, capture_output=True, text=True, timeout=timeout,
            cwd=self.corpus.parent,
        )

    def ingest(self, *args: str, timeout: float = INGEST_TIMEOUT_S) -> subprocess.CompletedProcess:
        return self.lineage("ingest", *args, timeout=timeout)

    def start_ingest(self) -> subprocess.Popen:
        # its own process group: its forked parse workers can be reaped after the kill (the graph server
        # runs in a session of its own and is not touched)
        return subprocess.Popen(
            [str(VENV_BIN / "lineage"), "ingest"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, cwd=self.corpus.parent, start_new_session=True,
        )

    def dump(self) -> GraphDump:
        """The canonical dump of this site's graph (the server is stopped afterwards, freeing its memory)."""
        backend = open_backend(GraphStoreConfig(data_dir=self.data_dir, graph_name=GRAPH_NAME))
        try:
            # bookkeeping (SyncState {domain, dirty}) included: after a successful rerun every domain
            # must be clean again, exactly as after a clean ingest
            return canonical_dump(backend, include_bookkeeping=True)
        finally:
            backend.close()
            stop_server(self.data_dir)

    def stop(self) -> None:
        stop_server(self.data_dir)


def kill_group(process: subprocess.Popen) -> None:
    """``kill -9`` of the process, then of whatever of its group is left (forked parse workers)."""
    try:
        os.kill(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(30)
    time.sleep(0.2)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def corpus_digest(corpus: Path) -> str:
    """SHA-256 over every path (files and links, as links) and content of the corpus."""
    sha = hashlib.sha256()
    for directory, dirs, files in sorted(os.walk(corpus)):
        dirs.sort()
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(directory, d))]):
            path = Path(directory) / name
            sha.update(str(path.relative_to(corpus)).encode("utf-8", "surrogateescape") + b"\0")
            sha.update(os.readlink(path).encode() if path.is_symlink() else path.read_bytes())
            sha.update(b"\1")
    return sha.hexdigest()


def graph_writes(data_dir: Path) -> int:
    """GRAPH.QUERY (write) commands the site's server processed since it started (0: no server)."""
    info = server_status(data_dir)
    if info is None:
        return 0
    connection = falkordb.FalkorDB(unix_socket_path=str(info.socket_path)).connection
    try:
        return int(connection.info("commandstats").get("cmdstat_graph.QUERY", {}).get("calls", 0))
    finally:
        connection.close()


@dataclass(frozen=True)
class Clean:
    dump: GraphDump
    seconds: float
    writes: int
    """GRAPH.QUERY commands the clean ingest sent (the range a kill point is drawn from)."""


_CLEAN: dict[str, Clean] = {}


@pytest.fixture(scope="module")
def clean_reference(tmp_path_factory):
    """``clean(corpus)``: the dump of a fault-free ingest of a copy of ``corpus`` into a fresh data dir
    (and its duration), computed once per corpus content."""

    def clean(corpus: Path, **extra_env: str) -> Clean:
        key = corpus_digest(corpus) + repr(sorted(extra_env.items()))
        if key not in _CLEAN:
            root = tmp_path_factory.mktemp("clean")
            copy = root / "corpus"
            shutil.copytree(corpus, copy, symlinks=True)
            site = Site.make(root, copy, **extra_env)
            started = time.monotonic()
            result = site.ingest()
            seconds = time.monotonic() - started
            assert result.returncode in (0, 1) and TRACEBACK not in result.stderr, result.stderr[-3000:]
            writes = graph_writes(site.data_dir)
            _CLEAN[key] = Clean(site.dump(), seconds, writes)
        return _CLEAN[key]

    return clean


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def clear_ending(result: subprocess.CompletedProcess) -> bool:
    """The command ended in one readable line, not a traceback."""
    line = last_line(result.stderr) or last_line(result.stdout)
    return TRACEBACK not in line and not line.startswith((" ", "\t")) and not re.match(r"^\w+(Error|Exception):", line)


def verdict(scenario: str, note: str, survived: bool, actual: GraphDump | None, expected: GraphDump) -> list[str]:
    """Record one trial; returns the failures to assert on at the end of the scenario."""
    t = tally(scenario)
    t.trials += 1
    t.survived += survived
    same = actual is not None and actual == expected
    t.identical += same
    t.notes.append(f"{note}: {'survived' if survived else 'DID NOT SURVIVE'}, {'identical' if same else 'DIFFERENT'}")
    failures = []
    if not survived:
        failures.append(f"{note}: not survived")
    if actual is not None and not same:
        failures.append(f"{note}: differs from clean: {actual.difference(expected)}")
    return failures


# -- 1 and 2: kill -9 of the ingest, of the graph server -------------------------------------------


@pytest.fixture(scope="module")
def generated_corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "corpus"
    generate_corpus(root, 300, 17)
    return root


KILL_INGEST_SEED = 1701
KILL_TRIALS = 2


def test_kill_9_of_lineage_ingest_then_rerun_equals_clean(tmp_path, generated_corpus, clean_reference):
    clean = clean_reference(generated_corpus)
    expected, clean_seconds = clean.dump, clean.seconds
    rng = random.Random(KILL_INGEST_SEED)
    failures = []
    for trial in range(KILL_TRIALS):
        site = Site.make(tmp_path / f"t{trial}", generated_corpus)
        try:
            delay = rng.uniform(1.5, max(2.0, clean_seconds * 0.9))
            process = site.start_ingest()
            time.sleep(delay)
            finished = process.poll() is not None
            kill_group(process)
            # the killed run is left STARTED in the instance; the next ingest fails it and goes on
            rerun = site.ingest()
            survived = rerun.returncode == 0 and TRACEBACK not in rerun.stderr and clear_ending(rerun)
            note = f"trial {trial}: kill after {delay:.1f}s of ~{clean_seconds:.0f}s{' (had finished)' if finished else ''}"
            if not survived:
                note += f" rerun exit {rerun.returncode}: {rerun.stderr[-1500:]}"
            failures += verdict("kill -9 lineage ingest", note, survived, site.dump(), expected)
        finally:
            site.stop()
    assert not failures, failures


KILL_SERVER_SEED = 4242


def test_kill_9_of_the_graph_server_during_ingest_then_rerun_equals_clean(tmp_path, generated_corpus, clean_reference):
    clean = clean_reference(generated_corpus)
    assert clean.writes > 10
    rng = random.Random(KILL_SERVER_SEED)
    failures = []
    for trial in range(KILL_TRIALS):
        site = Site.make(tmp_path / f"t{trial}", generated_corpus)
        try:
            assert site.lineage("graph", "start", timeout=120).returncode == 0
            pid = server_status(site.data_dir).pid
            # the kill point: after a seeded number of the ingest's graph writes, so it lands inside them
            kill_at = rng.randint(1, clean.writes)
            process = site.start_ingest()
            killed = False
            while process.poll() is None:
                if graph_writes(site.data_dir) >= kill_at:
                    os.kill(pid, signal.SIGKILL)
                    killed = True
                    break
                time.sleep(0.005)
            try:
                _, stderr = process.communicate(timeout=INGEST_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                kill_group(process)
                stderr = "(timed out)"
            first = subprocess.CompletedProcess(process.args, process.returncode, "", stderr)
            rerun = site.ingest()
            survived = (
                first.returncode in (0, 1) and clear_ending(first)
                and rerun.returncode == 0 and TRACEBACK not in rerun.stderr
            )
            note = (f"trial {trial}: server killed at write {kill_at} of {clean.writes}"
                    f"{'' if killed else ' (ingest had finished)'}, "
                    f"ingest exit {first.returncode}, rerun exit {rerun.returncode}")
            if not survived:
                note += f": {first.stderr[-1500:]} / {rerun.stderr[-1500:]}"
            failures += verdict("kill -9 graph server", note, survived, site.dump(), clean.dump)
            assert killed or kill_at >= clean.writes - 2, "the kill landed inside the ingest's writes"
        finally:
            site.stop()
    assert not failures, failures


TWO_INGESTS_TRIALS = 2


def test_two_lineage_ingests_at_once_then_rerun_equals_clean(tmp_path, generated_corpus, clean_reference):
    """Two ``lineage ingest`` processes started together on one site: each domain is run by one of them at a
    time (the other's run of it fails at its start, naming the holder, in one line); a rerun ends equal to a
    clean ingest."""
    expected = clean_reference(generated_corpus).dump
    failures = []
    for trial in range(TWO_INGESTS_TRIALS):
        site = Site.make(tmp_path / f"t{trial}", generated_corpus)
        try:
            first, second = site.start_ingest(), site.start_ingest()
            endings = []
            for process in (first, second):
                _, stderr = process.communicate(timeout=INGEST_TIMEOUT_S)
                endings.append((process.returncode, stderr))
            ended_clearly = all(
                code in (0, 1) and TRACEBACK not in last_line(err) and (code == 0 or "is being ingested by run" in err)
                for code, err in endings
            )
            rerun = site.ingest()
            survived = ended_clearly and rerun.returncode == 0 and TRACEBACK not in rerun.stderr
            note = f"trial {trial}: exits {[code for code, _ in endings]}"
            if not survived:
                note += f" endings {[last_line(err) for _, err in endings]}; rerun exit {rerun.returncode}: {rerun.stderr[-900:]}"
            failures += verdict("two lineage ingests at once", note, survived, site.dump(), expected)
        finally:
            site.stop()
    assert not failures, failures


# -- 3: disk full ----------------------------------------------------------------------------------

DISK_SEED = 3131
DISK_TRIALS = 2


@pytest.fixture
def small_tmpfs(tmp_path):
    with mounted_tmpfs(tmp_path / "small-fs", 24) as mount_point:
        yield mount_point
        stop_server(mount_point / "data")


def test_disk_full_fails_in_one_line_then_rerun_after_freeing_equals_clean(tmp_path, small_tmpfs, clean_reference):
    corpus = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS, corpus)
    expected = clean_reference(corpus).dump
    rng = random.Random(DISK_SEED)
    failures = []
    for trial in range(DISK_TRIALS):
        data_dir = small_tmpfs / "data"
        shutil.rmtree(data_dir, ignore_errors=True)
        site = Site.make(tmp_path / f"t{trial}", corpus, data_dir=data_dir)
        try:
            # the server and the stores start, then space runs out somewhere in the parse or the write
            assert site.lineage("graph", "start", timeout=120).returncode == 0
            free = rng.randrange(16 << 10, 512 << 10)
            ballast = fill(small_tmpfs, leave_bytes=free)
            full = site.ingest()
            ballast.unlink()
            rerun = site.ingest()
            survived = clear_ending(full) and rerun.returncode == 0 and TRACEBACK not in rerun.stderr
            note = f"trial {trial}: {free >> 10} KB left, ingest exit {full.returncode} ({last_line(full.stderr)[:160]!r})"
            if not survived:
                note += f"; rerun exit {rerun.returncode}: {full.stderr[-2000:]} / {rerun.stderr[-1500:]}"
            failures += verdict("disk full", note, survived, site.dump(), expected)
            if full.returncode != 0 and str(data_dir) not in last_line(full.stderr):
                failures.append(f"trial {trial}: the failure does not say where: {last_line(full.stderr)!r}")
        finally:
            site.stop()
    assert not failures, failures


# -- 4: corrupted state files between two ingests --------------------------------------------------

CORRUPT_SEED = 2024


def _garbage_or_truncated(path: Path, rng: random.Random) -> str:
    if rng.random() < 0.5 or not path.exists():
        path.write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
        return "garbage"
    data = path.read_bytes()
    path.write_bytes(data[: max(1, len(data) // rng.choice([2, 3, 7]))])
    return "truncated"


def corrupt_parse_cache(data: Path, rng: random.Random) -> str:
    return "parse cache " + _garbage_or_truncated(data / "parse_cache.sqlite", rng)


def corrupt_parse_results(data: Path, rng: random.Random) -> str:
    return "parse results " + _garbage_or_truncated(data / "parse_results.sqlite", rng)


def corrupt_manifest(data: Path, rng: random.Random) -> str:
    manifests = sorted((data / "manifests").glob("*.json"))
    manifest = rng.choice(manifests)
    text = manifest.read_text()
    hashes = re.findall(r'"([0-9a-f]{64})"', text)  # each entry's sha256
    victim = rng.choice(hashes)
    manifest.write_text(text.replace(victim, hashlib.sha256(victim.encode()).hexdigest(), 1))
    return f"manifest {manifest.name}: one sha256 altered (seal no longer matches)"


def corrupt_sensor_state(data: Path, rng: random.Random) -> str:
    state = data / "sensor" / "corpus_state.sqlite"
    state.parent.mkdir(parents=True, exist_ok=True)
    return "sensor state " + _garbage_or_truncated(state, rng)


def corrupt_dead_letters(data: Path, rng: random.Random) -> str:
    path = data / "failed_ingestion.jsonl"
    line = (
        '{"statement": "UNWIND $rows AS row MERGE (t:Table {key: row.key})", "row": {"key": "x"}, "error": "e", '
        '"run_id": "r", "at": "2026-01-01T00:00:00Z"}\n'
    )
    cut = line[: rng.randrange(5, len(line) - 5)]
    path.write_text(line + cut)  # the last line cut mid-record, no newline
    return "dead-letter file with a cut line"


CORRUPTIONS = [corrupt_parse_cache, corrupt_parse_results, corrupt_manifest, corrupt_sensor_state, corrupt_dead_letters]


def edit_corpus(corpus: Path) -> None:
    """The same edits every trial (so the clean reference is computed once): one file changed, one
    deleted, one added."""
    changed = corpus / "staging" / "load_stg_accounts.sql"
    changed.write_text(changed.read_text() + "\nINSERT INTO stg.chaos_audit (account_id) SELECT account_id FROM stg.accounts;\n")
    (corpus / "reporting" / "management_kpis.sql").unlink()
    (corpus / "core" / "chaos_added.sql").write_text(
        "INSERT INTO dw.chaos_copy (id, amount) SELECT id, amount FROM dw.fact_fees;\n"
    )


def test_corrupted_state_files_between_two_ingests_then_equals_clean(tmp_path, clean_reference):
    edited = tmp_path / "edited"
    shutil.copytree(DEMO_CORPUS, edited)
    edit_corpus(edited)
    expected = clean_reference(edited).dump
    rng = random.Random(CORRUPT_SEED)
    failures = []
    for trial, corrupt in enumerate(rng.sample(CORRUPTIONS, len(CORRUPTIONS))):  # every kind once, seeded order
        corpus = tmp_path / f"t{trial}" / "corpus"
        shutil.copytree(DEMO_CORPUS, corpus)
        site = Site.make(tmp_path / f"t{trial}", corpus)
        try:
            first = site.ingest()
            assert first.returncode == 0, first.stderr[-2000:]
            site.stop()  # state files are corrupted while nothing holds them open
            what = corrupt(site.data_dir, rng)
            edit_corpus(corpus)
            rerun = site.ingest()
            survived = rerun.returncode == 0 and TRACEBACK not in rerun.stderr
            note = f"trial {trial}: {what}, rerun exit {rerun.returncode}"
            if not survived:
                note += f": {rerun.stderr[-2000:]}"
            failures += verdict("corrupted state file", note, survived, site.dump(), expected)
        finally:
            site.stop()
    assert not failures, failures


# -- 5: hostile identifiers and paths --------------------------------------------------------------

HOSTILE_SQL = {
    # T-SQL (staging, core): bracketed identifiers keep every character
    "staging/padded_names.sql": "INSERT INTO [stg].[orders ] ([id], [ amount]) SELECT [id], [amount] FROM [src].[ orders];\n",
    "staging/quotes_and_backslashes.sql": (
        "INSERT INTO [stg].[it's \"quoted\"] ([a\\b]) SELECT [c\\\\d] FROM [src].[back\\slash];\n"
    ),
    "staging/unicode_names.sql": "INSERT INTO [stg].[Données_Clés] ([montant€]) SELECT [Größe] FROM [src].[表];\n",
    "staging/cypher_injection.sql": (
        "INSERT INTO [stg].['}) DETACH DELETE n //] ([x]) SELECT [x] FROM [src].[\"}) MATCH (n) DETACH DELETE n //];\n"
        "-- '}) DETACH DELETE n //\n"
    ),
    "core/huge_identifier.sql": f"INSERT INTO [dw].[{'w' * 5000}] ([id]) SELECT [id] FROM [stg].[wide];\n",
    # hostile file names
    "core/a file with spaces.sql": "INSERT INTO dw.spaced (id) SELECT id FROM stg.spaced;\n",
    "core/données #1.sql": "INSERT INTO dw.unicode_file (id) SELECT id FROM stg.unicode_file;\n",
    "core/it's \"quoted\".sql": "INSERT INTO dw.quoted_file (id) SELECT id FROM stg.quoted_file;\n",
    # a top-level folder named like the reserved root partition
    "_root/under_root_folder.sql": "INSERT INTO mart.root_folder (id) SELECT id FROM stg.root_folder;\n",
    # innocent files next to them
    "staging/innocent.sql": "INSERT INTO stg.innocent (id, amount) SELECT id, amount FROM src.innocent;\n",
}
INNOCENT_EDGES = [
    ("FEEDS", "src.innocent", "stg.innocent"),
    ("FEEDS", "stg.spaced", "dw.spaced"),
    ("FEEDS", "stg.unicode_file", "dw.unicode_file"),
    ("FEEDS", "stg.quoted_file", "dw.quoted_file"),
    ("FEEDS", "stg.root_folder", "mart.root_folder"),
]


def hostile_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    shutil.copytree(DEMO_CORPUS, corpus)
    for relative, text in HOSTILE_SQL.items():
        path = corpus / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.sql").write_text("INSERT INTO leak.secret (id) SELECT id FROM leak.source;\n")
    (corpus / "core" / "escaping_link.sql").symlink_to(outside / "secret.sql")
    (corpus / "staging" / "escaping_dir").symlink_to(outside, target_is_directory=True)
    (corpus / "escaping_domain").symlink_to(outside, target_is_directory=True)
    return corpus


def test_hostile_identifiers_and_paths_are_ingested_exactly_like_a_clean_ingest(tmp_path, clean_reference):
    corpus = hostile_corpus(tmp_path / "site")
    expected = clean_reference(corpus).dump
    site = Site.make(tmp_path / "site", corpus)
    try:
        first = site.ingest()
        hostile = list(ParseResults(site.data_dir / "parse_results.sqlite").read(list(HOSTILE_SQL)))
        again = site.ingest()
        # the 5 KB name (over the store's key limit) and `[orders ]` (edge whitespace) are refused: their rows
        # are dead-lettered and reported, which is not a failed run (exit 0); every other name is stored verbatim
        survived = first.returncode == 0 and again.returncode == 0 and TRACEBACK not in first.stderr + again.stderr
        actual = site.dump()
    finally:
        site.stop()
    note = f"ingest exit {first.returncode}, again {again.returncode}"
    if not survived:
        note += f": {first.stdout[-1500:]} {first.stderr[-1500:]}"
    failures = verdict("hostile identifiers and paths", note, survived, actual, expected)
    unhandled = [f"{h.path}: {e.message}" for h in hostile for e in h.errors if any(m in e.message for m in UNHANDLED)]
    FUZZ["tried"] += len(HOSTILE_SQL) + 3  # and the three links out of the corpus
    FUZZ["unhandled"] += len(unhandled) + len(HOSTILE_SQL) - len(hostile)
    assert not failures, failures
    assert not unhandled and len(hostile) == len(HOSTILE_SQL), (unhandled, [h.path for h in hostile])
    files = {dict(props)["path"]: dict(props) for labels, props in actual.nodes if "SqlFile" in labels}
    feeds = {(rel, src, dst) for rel, _, src, _, dst, _ in actual.relationships}
    assert not [p for p in files if "escaping" in p or "secret" in p], "links out of the corpus are ignored"
    assert not [r for r in feeds if "leak." in r[1] or "leak." in r[2]]
    for relative in HOSTILE_SQL:
        assert relative in files, f"{relative} is in the graph"
    assert files["_root/under_root_folder.sql"]["domain"] != files["bootstrap.sql"]["domain"]
    missing = [edge for edge in INNOCENT_EDGES if edge not in feeds]
    assert not missing, f"innocent lineage present: {missing}"
    tables = {dict(props).get("key") for labels, props in actual.nodes if "Table" in labels}
    # a name with edge whitespace or over the key limit is refused with the reason and reported, never written
    assert "rejected by the store went to the dead-letter file" in first.stdout
    assert "stg.orders " not in tables and not [t for t in tables if t and len(t) > 4000]
    for key in ["stg.données_clés", "stg.'}) detach delete n //", "stg.it's \"quoted\""]:
        assert key in tables, f"{key!r} kept verbatim (lower-cased) in {sorted(t for t in tables if t and t.startswith('stg.'))}"


# -- 6: fuzz corpus with a time bound --------------------------------------------------------------

FUZZ_SEED = 606
FUZZ_FILES = 40
FUZZ_BOUND_S = 240
UNHANDLED = ("internal parser error", "worker process died", "Traceback")


def mutate(text: bytes, rng: random.Random) -> tuple[bytes, str]:
    kind = rng.choice(["truncate", "flip", "joins", "parens", "nul", "huge line", "mix"])
    data = bytearray(text)
    if kind in ("truncate", "mix"):
        data = data[: rng.randrange(1, max(2, len(data)))]
    if kind in ("flip", "mix"):
        for _ in range(rng.randint(1, 40)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
    if kind == "joins":
        at = rng.randrange(len(data) + 1)
        data[at:at] = b" JOIN" * rng.randint(2, 12) + b" "
    if kind in ("parens", "mix"):
        at = rng.randrange(len(data) + 1)
        data[at:at] = rng.choice([b"(" * rng.randint(1, 50), b")" * rng.randint(1, 50), b"((((SELECT 1"])
    if kind == "nul":
        for _ in range(rng.randint(1, 5)):
            at = rng.randrange(len(data) + 1)
            data[at:at] = b"\0"
    if kind == "huge line":
        at = rng.randrange(len(data) + 1)
        data[at:at] = b"SELECT " + b", ".join(b"c%d" % i for i in range(rng.randint(2_000, 20_000))) + b" FROM t"
    return bytes(data), kind


def fuzz_corpus(root: Path) -> tuple[Path, list[str]]:
    corpus = root / "corpus"
    shutil.copytree(DEMO_CORPUS, corpus)
    rng = random.Random(FUZZ_SEED)
    sources = sorted(p for p in corpus.rglob("*.sql") if p.stat().st_size > 0)
    fuzzed = []
    for i in range(FUZZ_FILES):
        source = rng.choice(sources)
        data, kind = mutate(source.read_bytes(), rng)
        target = source.with_name(f"fuzz_{i:03d}_{kind.replace(' ', '_')}_{source.name}")
        target.write_bytes(data)
        fuzzed.append(str(target.relative_to(corpus)))
    return corpus, fuzzed


def test_fuzz_corpus_within_a_time_bound_every_file_reported_and_second_ingest_equals_clean(tmp_path, clean_reference):
    corpus, fuzzed = fuzz_corpus(tmp_path / "site")
    site = Site.make(tmp_path / "site", corpus)
    try:
        started = time.monotonic()
        first = site.ingest(timeout=FUZZ_BOUND_S)
        seconds = time.monotonic() - started
        lineages = {lineage.path: lineage for lineage in ParseResults(site.data_dir / "parse_results.sqlite").read(fuzzed)}
        again = site.ingest(timeout=FUZZ_BOUND_S)
        actual = site.dump()
    finally:
        site.stop()
    expected = clean_reference(corpus).dump
    unhandled = [
        f"{path}: {issue.message}" for path, lineage in lineages.items() for issue in lineage.errors
        if any(marker in issue.message for marker in UNHANDLED)
    ]
    unreported = sorted(set(fuzzed) - set(lineages))
    FUZZ["tried"] += len(fuzzed)
    FUZZ["unhandled"] += len(unhandled) + len(unreported)
    survived = first.returncode == 0 and again.returncode == 0 and TRACEBACK not in first.stderr + again.stderr
    note = f"{len(fuzzed)} fuzzed files in {seconds:.0f}s, ingest exit {first.returncode}, again {again.returncode}"
    if not survived:
        note += f": {first.stderr[-1500:]}"
    failures = verdict("fuzz corpus", note, survived, actual, expected)
    assert seconds < FUZZ_BOUND_S
    assert not unreported, f"every fuzzed file is reported: {unreported}"
    assert not unhandled, unhandled
    in_graph = {dict(props)["path"] for labels, props in actual.nodes if "SqlFile" in labels}
    assert set(fuzzed) <= in_graph
    assert not failures, failures
