"""Spec: many typical 3-10 statement procedure files parse cleanly with column lineage.

Speed is not asserted here; ``lineage bench parse`` measures it next to a baseline.
"""

import random

from lineage_pipeline.parsing import parse_sql

TEMPLATES = [
    "INSERT INTO dbo.tgt_{i} (a, b) SELECT s.id, SUM(s.amount) FROM dbo.src_{j} s JOIN dbo.src_{k} u ON u.id = s.id GROUP BY "
    "s.id",
    "SELECT id, amount INTO #t{i} FROM dbo.src_{j} WHERE qty > 0\n"
    "INSERT INTO dbo.tgt_{i} (x, y) SELECT id, amount * 2 FROM #t{i}",
    "MERGE dbo.tgt_{i} AS t USING dbo.src_{j} AS s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.v = s.v "
    "WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v);",
    "UPDATE x SET x.v = y.v + 1 FROM dbo.tgt_{i} x JOIN dbo.src_{j} y ON x.id = y.id",
    ";WITH c AS (SELECT id, SUM(v) AS total FROM dbo.src_{j} GROUP BY id) INSERT INTO dbo.tgt_{i} (id, total) SELECT id, total "
    "FROM c",
    "TRUNCATE TABLE dbo.tgt_{i}\nPRINT 'x'\nEXEC dbo.audit {i}",
]


def _corpus(files: int) -> list[str]:
    rng = random.Random(5)
    texts = []
    for f in range(files):
        body = "\n".join(
            rng.choice(TEMPLATES).format(i=f * 10 + n, j=rng.randrange(30), k=rng.randrange(30))
            for n in range(rng.randint(3, 10))
        )
        texts.append(f"CREATE PROCEDURE dbo.p{f} AS\nBEGIN\nSET NOCOUNT ON;\n{body}\nEND\nGO\n")
    return texts


def test_many_procedure_files_parse_cleanly():
    texts = _corpus(60)
    results = [parse_sql(text, "tsql") for text in texts]
    assert all(not r.errors for r in results)
    assert all(s.procedure == f"dbo.p{i}" for i, r in enumerate(results) for s in r.statements)
    assert not any(name.startswith("#") for r in results for s in r.statements for name in s.sources + s.targets)
    assert sum(len(s.columns) for r in results for s in r.statements) > 300
