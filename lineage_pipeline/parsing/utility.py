"""Utility statements: session, metadata, permission and maintenance statements that move no data.

They yield no sources and no targets, even when they name a table (``DESCRIBE t``, ``GRANT ... ON t``,
``ANALYZE t``): naming a table is not reading its rows into anything. A statement sqlglot keeps as an
opaque ``Command`` is never mined for table names; unless its head says it is a utility statement, the
parser warns that it was not read.
"""

import re

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from lineage_pipeline.parsing.names import word_set

UTILITY_TYPES: tuple[type[exp.Expr], ...] = (
    exp.Use,
    exp.Show,
    exp.Describe,
    exp.Grant,
    exp.Revoke,
    exp.Comment,
    exp.Analyze,
    exp.Refresh,
    exp.Uncache,
    exp.Pragma,
    exp.Kill,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
)
"""Parsed statement types that never carry lineage."""

# Heads of statements that carry no lineage, whether sqlglot parses them, keeps them as a Command or
# rejects them (T-SQL ``DENY``, ``WAITFOR``, ``DBCC``). ``SET``/``DECLARE``/``EXEC`` are not here: an
# assignment may read a table and EXEC is a call.
UTILITY_HEADS = word_set(
    """USE SHOW DESCRIBE DESC EXPLAIN ANALYZE REFRESH UNCACHE GRANT REVOKE DENY COMMENT VACUUM OPTIMIZE
    MSCK PRINT WAITFOR DBCC BACKUP RESTORE CHECKPOINT RECONFIGURE KILL SHUTDOWN COMMIT ROLLBACK SAVE
    BEGIN START END ABORT LOCK UNLOCK LISTEN NOTIFY UNLISTEN DISCARD RESET CLUSTER REINDEX
    PUT GET LIST REMOVE RM SETUSER REVERT RAISERROR THROW FLUSH PURGE INVALIDATE COMPUTE ENABLE DISABLE COLLECT HELP
    ATTACH DETACH INSTALL CONVERT SYSTEM"""
)

# ``CREATE|ALTER|DROP <word>`` objects that hold no rows: partitioning, security, full-text, server
# objects; Snowflake pipes and tasks, whose ``AS <statement>`` body the splitter reads as a statement of
# its own. (``EXTERNAL`` is absent on purpose: an external table is a table.)
UTILITY_OBJECTS = word_set(
    """PARTITION FULLTEXT STATISTICS LOGIN USER ROLE CERTIFICATE MASTER SYMMETRIC ASYMMETRIC ASSEMBLY
    XML SECURITY DATABASE EVENT QUEUE SERVICE CONTRACT MESSAGE ROUTE ENDPOINT CREDENTIAL AVAILABILITY
    RESOURCE WORKLOAD SERVER INDEX COLUMNSTORE SEARCH APPLICATION BROKER WAREHOUSE SESSION ACCOUNT
    INTEGRATION NETWORK PASSWORD MASKING ROW TAG TYPE SYNONYM AUTHORIZATION EXTENSION PUBLICATION
    SUBSCRIPTION PIPE TASK ALERT NOTIFICATION SCHEMA"""
)
_DDL_HEADS = frozenset(("CREATE", "ALTER", "DROP"))
_EXTERNAL_NON_TABLES = frozenset(("DATA", "FILE", "RESOURCE", "LANGUAGE", "LIBRARY"))
_DDL_MODIFIERS = frozenset(("OR", "REPLACE", "ALTER", "UNIQUE", "CLUSTERED", "NONCLUSTERED"))


def utility_head(words: list[str]) -> str | None:
    """The kind (``grant``, ``create partition``) of a statement whose first words say it moves no
    data, else ``None``. ``words`` are its first few upper-cased words."""
    if not words:
        return None
    head = words[0]
    if head in UTILITY_HEADS:
        if head == "BEGIN" and len(words) > 1 and words[1] not in ("TRAN", "TRANSACTION", "WORK", "DISTRIBUTED"):
            return None
        return "describe" if head == "DESC" else head.lower()
    if head in _DDL_HEADS:
        rest = [word for word in words[1:] if word not in _DDL_MODIFIERS]
        if rest and rest[0] in UTILITY_OBJECTS:
            return f"{head.lower()}_{rest[0].lower()}"
        if rest[:1] == ["EXTERNAL"] and rest[1:2] and rest[1] in _EXTERNAL_NON_TABLES:
            # PolyBase/Synapse ``CREATE EXTERNAL DATA SOURCE|FILE FORMAT``: where files are, not rows.
            return f"{head.lower()}_external_{rest[1].lower()}"
    if head == "UPDATE" and words[1:2] == ["STATISTICS"]:
        return "update_statistics"
    if head == "SET" and len(words) > 1:
        # ``SET IDENTITY_INSERT t ON``, ``SET DEADLOCK_PRIORITY LOW``: session options (``SET @v = ...``
        # assigns a variable and may read a table; its second word is no word).
        return "set"
    return None


def token_words(tokens: list[Token], limit: int = 4) -> list[str]:
    """The first ``limit`` words of a statement, upper-cased (names and symbols end the list)."""
    words = []
    for token in tokens[:limit]:
        if token.token_type in (TokenType.STRING, TokenType.IDENTIFIER) or not token.text[:1].isalpha():
            break
        words.append(token.text.upper())
    return words


def command_text(command: exp.Command) -> str:
    """An opaque ``Command``'s text after its head word(s)."""
    rest = command.expression
    return rest.name if isinstance(rest, exp.Literal) else rest if isinstance(rest, str) else ""


def command_words(command: exp.Command) -> list[str]:
    """The first words of an opaque ``Command`` (its head may hold two words: ``MSCK REPAIR``)."""
    words = f"{command.this or ''} {command_text(command)}".split()[:4]
    return [word.upper() for word in words]


# Governance clauses of ALTER (Snowflake): attaching a policy or tag moves no data.
_GOVERNANCE = re.compile(r"\b(?:SET|UNSET|ADD|DROP)\s+(?:MASKING\s+POLICY|TAG|ROW\s+ACCESS\s+POLICY)\b", re.IGNORECASE)


def utility_command(command: exp.Command) -> str | None:
    """The utility kind of an opaque ``Command`` (see ``utility_head``), else ``None``."""
    words = command_words(command)
    kind = utility_head(words)
    if kind is None and words[:1] == ["ALTER"] and _GOVERNANCE.search(command_text(command)):
        return "alter"
    return kind
