"""Spec: realistic warehouse T-SQL scripts - procedures, TRY/CATCH, GO batches, missing semicolons, temp hops."""

from lineage_pipeline.parsing import Call, Effect

from .support import clean, edges, parse

LOAD_PROCEDURE = """\
USE [Warehouse]
GO
SET ANSI_NULLS ON
GO
IF EXISTS (SELECT * FROM sys.objects WHERE name = 'usp_LoadCustomerSummary')
    DROP PROCEDURE dbo.usp_LoadCustomerSummary
GO
CREATE PROCEDURE [dbo].[usp_LoadCustomerSummary]
    @RunDate DATE = NULL,
    @Debug BIT = 0
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @rows INT = 0
    DECLARE @msg NVARCHAR(400)

    IF @RunDate IS NULL
        SET @RunDate = CAST(GETDATE() AS DATE)

    PRINT 'Loading customer summary for ' + CONVERT(VARCHAR(10), @RunDate, 120)

    BEGIN TRY
        BEGIN TRANSACTION

        IF OBJECT_ID('tempdb..#orders') IS NOT NULL DROP TABLE #orders

        SELECT o.CustomerID, o.Amount, o.OrderDate
        INTO #orders
        FROM [Sales].[dbo].[Orders] o WITH (NOLOCK)
        WHERE o.OrderDate < @RunDate

        CREATE TABLE #totals (CustomerID INT, Total MONEY, Cnt INT)

        INSERT INTO #totals (CustomerID, Total, Cnt)
        SELECT CustomerID, SUM(Amount), COUNT(*)
        FROM #orders
        GROUP BY CustomerID

        TRUNCATE TABLE dbo.CustomerSummary

        INSERT INTO dbo.CustomerSummary (CustomerID, CustomerName, TotalAmount, OrderCount, LoadDate)
        SELECT c.CustomerID, c.Name, t.Total, t.Cnt, @RunDate
        FROM dbo.Customers c
        INNER JOIN #totals t ON t.CustomerID = c.CustomerID

        SET @rows = @@ROWCOUNT
        IF @Debug = 1 PRINT 'rows: ' + CAST(@rows AS VARCHAR(10))

        EXEC dbo.usp_WriteAudit @proc = 'usp_LoadCustomerSummary', @rows = @rows

        COMMIT TRANSACTION
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION
        SET @msg = ERROR_MESSAGE()
        RAISERROR(@msg, 16, 1)
    END CATCH
END
GO
"""


def test_procedure_body_statements_in_order():
    result = clean(LOAD_PROCEDURE)
    kinds = [s.kind for s in result.statements]
    assert kinds == [
        "USE", "SET", "DROP PROCEDURE",
        "SET", "DECLARE", "DECLARE", "SET", "PRINT", "TRANSACTION", "DROP TABLE", "SELECT INTO",
        "CREATE TABLE", "INSERT", "TRUNCATE", "INSERT", "SET", "PRINT", "EXECUTE", "COMMIT",
        "ROLLBACK", "SET", "RAISERROR",
    ]


def test_procedure_lineage_through_temps():
    result = clean(LOAD_PROCEDURE)
    writer = [s for s in result.statements if s.targets]
    assert len(writer) == 1
    final = writer[0]
    assert final.procedure == "dbo.usp_loadcustomersummary"
    assert (final.sources, final.targets, final.temp_tables) == (
        ["dbo.customers", "sales.dbo.orders"], ["dbo.customersummary"], ["#totals"])
    assert edges(final) == {
        "dbo.customersummary.customerid": (["dbo.customers.customerid"], "direct"),
        "dbo.customersummary.customername": (["dbo.customers.name"], "direct"),
        "dbo.customersummary.totalamount": (["sales.dbo.orders.amount"], "aggregation"),
        "dbo.customersummary.ordercount": ([], "aggregation"),
        "dbo.customersummary.loaddate": ([], "expression"),
    }


def test_procedure_effects_and_calls():
    result = clean(LOAD_PROCEDURE)
    effects = [e for s in result.statements for e in s.effects]
    calls = [c for s in result.statements for c in s.calls]
    assert effects == [
        Effect(kind="drop", table="dbo.usp_loadcustomersummary", detail="procedure"),
        Effect(kind="truncate", table="dbo.customersummary"),
    ]
    assert [(c.kind, c.target) for c in calls] == [("procedure", "dbo.usp_writeaudit")]


def test_statement_lines_are_file_lines():
    result = clean(LOAD_PROCEDURE)
    by_kind = {s.kind: s.line for s in result.statements}
    assert by_kind["SELECT INTO"] == 27
    assert by_kind["TRUNCATE"] == 39
    assert by_kind["EXECUTE"] == 49


def test_print_does_not_swallow_next_statement():
    result = clean("PRINT 'starting'\nINSERT INTO dbo.t (a) SELECT a FROM dbo.s\nPRINT 'done'")
    assert [s.kind for s in result.statements] == ["PRINT", "INSERT", "PRINT"]
    assert result.statements[1].targets == ["dbo.t"]


def test_statements_without_semicolons():
    sql = (
        "DECLARE @x INT SET @x = 1 "
        "UPDATE dbo.a SET v = 1 WHERE id = @x "
        "DELETE FROM dbo.b WHERE id = @x "
        "INSERT INTO dbo.c (v) SELECT v FROM dbo.a "
        "SELECT * FROM dbo.c"
    )
    result = clean(sql)
    assert [s.kind for s in result.statements] == ["DECLARE", "SET", "UPDATE", "DELETE", "INSERT", "SELECT"]


def test_go_separator_variants():
    sql = "SELECT 1 FROM a\ngo\nSELECT 2 FROM b\n  GO  \nSELECT 3 FROM c\nGO 5\nSELECT 4 FROM d -- GO\n"
    result = clean(sql)
    assert [s.sources for s in result.statements] == [["a"], ["b"], ["c"], ["d"]]


def test_go_inside_string_or_comment_is_not_a_separator():
    sql = "INSERT INTO t (a) SELECT 'x\nGO\ny' FROM s\n/*\nGO\n*/\nSELECT 1 FROM u"
    result = clean(sql)
    assert [s.kind for s in result.statements] == ["INSERT", "SELECT"]


def test_unparseable_statement_costs_only_itself():
    sql = "INSERT INTO t1 (a) SELECT a FROM s1\nGO\nSELECT FROM WHERE (((\nGO\nINSERT INTO t2 (a) SELECT a FROM s2\n"
    result = parse(sql)
    assert [s.targets for s in result.statements] == [["t1"], ["t2"]]
    assert [(e.statement, e.line) for e in result.errors] == [(1, 3)]


def test_if_else_blocks():
    sql = """
    IF @mode = 'full'
    BEGIN
        TRUNCATE TABLE dbo.t
        INSERT INTO dbo.t (a) SELECT a FROM dbo.s
    END
    ELSE
        INSERT INTO dbo.t (a) SELECT a FROM dbo.s_delta
    """
    result = clean(sql)
    assert [(s.kind, s.sources, s.targets) for s in result.statements] == [
        ("TRUNCATE", [], []),
        ("INSERT", ["dbo.s"], ["dbo.t"]),
        ("INSERT", ["dbo.s_delta"], ["dbo.t"]),
    ]


def test_while_loop_body():
    sql = """
    DECLARE @i INT = 0
    WHILE @i < 10
    BEGIN
        INSERT INTO dbo.log (i) SELECT @i
        SET @i = @i + 1
    END
    """
    result = clean(sql)
    assert [s.kind for s in result.statements] == ["DECLARE", "INSERT", "SET"]


def test_cte_with_leading_semicolon():
    sql = "SET NOCOUNT ON\n;WITH x AS (SELECT id FROM dbo.s)\nINSERT INTO dbo.t (id) SELECT id FROM x"
    result = clean(sql)
    assert [(s.kind, s.sources, s.targets) for s in result.statements] == [
        ("SET", [], []), ("INSERT", ["dbo.s"], ["dbo.t"])]


def test_dynamic_sql_is_recorded():
    sql = """
    DECLARE @sql NVARCHAR(MAX) = N'INSERT INTO dbo.t SELECT * FROM dbo.s'
    EXEC(@sql)
    EXEC sp_executesql @sql
    EXECUTE sp_executesql N'SELECT 1'
    EXEC dbo.usp_other
    EXEC [etl].[usp_Load] @p = 1
    """
    result = clean(sql)
    calls = [(c.kind, c.target) for s in result.statements for c in s.calls]
    assert calls == [
        ("dynamic_sql", None), ("dynamic_sql", None), ("dynamic_sql", None),
        ("procedure", "dbo.usp_other"), ("procedure", "etl.usp_load"),
    ]


def test_insert_exec_targets_table_and_records_call():
    result = clean("INSERT INTO dbo.t (a, b) EXEC dbo.usp_source @x = 1")
    statement = result.statements[0]
    assert (statement.kind, statement.targets, statement.calls) == (
        "INSERT EXEC", ["dbo.t"],
        [Call(kind="procedure", target="dbo.usp_source", text="INSERT INTO dbo.t (a, b) EXEC dbo.usp_source @x = 1")])


def test_sp_rename_is_an_effect():
    result = clean("EXEC sp_rename 'dbo.old_t', 'new_t'")
    assert result.statements[0].effects == [Effect(kind="rename", table="dbo.old_t", detail="new_t")]


def test_trigger_body_reads_inserted_and_deleted_as_the_trigger_table():
    sql = """
    CREATE TRIGGER dbo.trg_audit ON dbo.orders AFTER INSERT, UPDATE AS
    BEGIN
        INSERT INTO dbo.orders_audit (id, amount) SELECT id, amount FROM inserted
        INSERT INTO dbo.orders_history (id, old_amount) SELECT d.id, d.amount FROM deleted AS d
    END
    GO
    INSERT INTO dbo.t (a) SELECT a FROM inserted
    """
    result = clean(sql)
    first, second, outside = result.statements
    assert (first.procedure, first.sources, first.targets) == ("dbo.trg_audit", ["dbo.orders"], ["dbo.orders_audit"])
    assert edges(first) == {
        "dbo.orders_audit.id": (["dbo.orders.id"], "direct"),
        "dbo.orders_audit.amount": (["dbo.orders.amount"], "direct"),
    }
    assert edges(second) == {
        "dbo.orders_history.id": (["dbo.orders.id"], "direct"),
        "dbo.orders_history.old_amount": (["dbo.orders.amount"], "direct"),
    }
    # Outside a trigger, ``inserted`` is just a table name.
    assert (outside.procedure, outside.sources) == (None, ["inserted"])


def test_inline_table_function_body_is_a_read():
    sql = "CREATE FUNCTION dbo.f (@p INT) RETURNS TABLE AS RETURN (SELECT a FROM dbo.t WHERE b = @p)"
    result = clean(sql)
    assert [(s.kind, s.sources, s.procedure) for s in result.statements] == [("SELECT", ["dbo.t"], "dbo.f")]


def test_multi_statement_function():
    sql = """
    CREATE FUNCTION dbo.f() RETURNS @r TABLE (a INT) AS
    BEGIN
        INSERT INTO @r (a) SELECT a FROM dbo.t
        RETURN
    END
    """
    result = clean(sql)
    assert result.statements[0].kind == "INSERT"
    assert result.statements[0].temp_tables == ["@r"]
    assert result.statements[0].sources == ["dbo.t"]


def test_create_or_alter_procedure_and_alter_procedure():
    for head in ("CREATE OR ALTER PROCEDURE", "ALTER PROCEDURE", "CREATE PROC"):
        sql = f"{head} etl.p AS\nINSERT INTO etl.t (a) SELECT a FROM etl.s\nGO\nSELECT 1 FROM x"
        result = clean(sql)
        assert [(s.procedure, s.targets) for s in result.statements] == [("etl.p", ["etl.t"]), (None, [])]


def test_cursor_loop():
    sql = """
    DECLARE c CURSOR FOR SELECT id FROM dbo.queue
    OPEN c
    FETCH NEXT FROM c INTO @id
    WHILE @@FETCH_STATUS = 0
    BEGIN
        UPDATE dbo.queue SET done = 1 WHERE id = @id
        FETCH NEXT FROM c INTO @id
    END
    CLOSE c
    DEALLOCATE c
    """
    result = parse(sql)
    kinds = [s.kind for s in result.statements]
    assert "UPDATE" in kinds
    update = result.statements[kinds.index("UPDATE")]
    assert update.targets == ["dbo.queue"]
