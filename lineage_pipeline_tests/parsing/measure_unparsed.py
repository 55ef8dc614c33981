"""Statements left unread on a folder of SQL files: ``python -m lineage_pipeline_tests.parsing.measure_unparsed
DIR DIALECT [-v]``. Prints files, statements, statement-level errors and their rate, the commonest error
messages, and the warnings (statements read only in part). Used for the figures in
``fixtures/tsql_corpus/README.md``; run it with an older checkout on PYTHONPATH for a before/after."""

import collections
import pathlib
import sys

from lineage_pipeline.parsing import parse_file_bytes


def measure(root: pathlib.Path, dialect: str, verbose: bool = False) -> None:
    files = sorted(root.rglob("*.sql"))
    statements = failed = 0
    errors: collections.Counter[str] = collections.Counter()
    warnings: collections.Counter[str] = collections.Counter()
    for path in files:
        lineage = parse_file_bytes(path.read_bytes(), dialect, str(path))
        read = {statement.index for statement in lineage.statements}
        issues = [issue for issue in lineage.errors if issue.statement is not None]
        statements += len(read) + len({issue.statement for issue in issues} - read)
        failed += len(issues)
        for issue in issues:
            errors[issue.message[:90]] += 1
            if verbose:
                print(f"{path.name}:{issue.line}: {issue.message[:120]}")
        for issue in getattr(lineage, "warnings", []):  # absent before PARSER_VERSION 7
            warnings[issue.message[:70]] += 1
    print(f"files={len(files)} statements={statements} errors={failed} rate={failed / max(statements, 1):.2%}")
    for message, count in errors.most_common(15):
        print(f"  {count} {message}")
    print(f"warnings={sum(warnings.values())}")
    for message, count in warnings.most_common(10):
        print(f"  {count} {message}")


if __name__ == "__main__":
    measure(pathlib.Path(sys.argv[1]), sys.argv[2], "-v" in sys.argv[3:])
