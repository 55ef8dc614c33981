"""Spec: throughput - typical 3-10 statement warehouse files parse with column lineage well above 20 files/s.

The target on a quiet machine is >= 150 files/s; the bound here is loose so the suite is not flaky.
"""

import random
import time

from lineage_pipeline.parsing import parse_sql

TEMPLATES = [
    "INSERT INTO dbo.tgt_{i} (a, b) SELECT s.id, SUM(s.amount) FROM dbo.src_{j} s JOIN dbo.src_{k} u ON u.id = s.id GROUP BY s.id",
    "SELECT id, amount INTO #t{i} FROM dbo.src_{j} WHERE qty > 0\nINSERT INTO dbo.tgt_{i} (x, y) SELECT id, amount * 2 FROM #t{i}",
    "MERGE dbo.tgt_{i} AS t USING dbo.src_{j} AS s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.v = s.v "
    "WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v);",
    "UPDATE x SET x.v = y.v + 1 FROM dbo.tgt_{i} x JOIN dbo.src_{j} y ON x.id = y.id",
    ";WITH c AS (SELECT id, SUM(v) AS total FROM dbo.src_{j} GROUP BY id) INSERT INTO dbo.tgt_{i} (id, total) SELECT id, total FROM c",
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


def test_throughput():
    texts = _corpus(60)
    start = time.perf_counter()
    results = [parse_sql(text, "tsql") for text in texts]
    elapsed = time.perf_counter() - start
    assert all(not r.errors for r in results)
    assert sum(len(s.columns) for r in results for s in r.statements) > 300
    assert len(texts) / elapsed > 20
