"""Access control on PostgreSQL, against the real server with real roles (README,
Security): the BI reader role reads the marts and nothing else, and row-level security
lets a tenant's login see only its tenant, through every kind of rebuild.

Each test gets its own role names (KPI_READER_ROLE / KPI_TENANT_ROLE_PREFIX with a random
suffix), so runs in parallel never share a role, and drops them afterwards.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fixtures_hand
import psycopg2
import psycopg2.errors
import pytest
from harness import DbtBuildError, Warehouse, patched_env, require_postgres

from itsm_kpi.warehouse import admin_cursor, connect

pytestmark = pytest.mark.postgres

# tenants of the hand fixture that have KPI rows (1, 2, 3 in tenants.csv; 9 found in raw)
TENANTS = {1, 2, 3, 9}
TENANT_MARTS = (
    "fct_kpi_values", "fct_kpi_values_daily", "fct_kpi_values_weekly",
    "fct_kpi_values_monthly", "kpi_scorecard", "tenant_kpi_status", "open_request_aging",
    "fct_kpi_contributions", "fct_kpi_breakdowns", "dora_scorecard",
)
# the hand fixture's targets enable the DORA KPIs too here, so dora_scorecard has values
DORA_TARGETS = """,DEPLOYMENT_FREQUENCY,5,,,true
,CHANGE_LEAD_TIME,24,,,true
,CHANGE_FAILURE_RATE,15,,,true
,FAILED_DEPLOYMENT_RECOVERY_TIME,24,,,true
,DEPLOYMENT_REWORK_RATE,10,,,true
"""


@dataclass
class Secured:
    """A hand-fixture warehouse built with this test's roles, and logins to try them."""

    warehouse: Warehouse
    reader: str
    prefix: str
    logins: list[str]

    def login(self, *member_of: str) -> str:
        """A new LOGIN role (trust auth: no password), a member of the given roles."""
        name = f"{self.reader}_login{len(self.logins)}"
        with admin_cursor() as cursor:
            cursor.execute(f"create role {name} login")
            for role in member_of:
                cursor.execute(f"grant {role} to {name}")
        self.logins.append(name)
        return name

    @contextlib.contextmanager
    def connect_as(self, login: str) -> Iterator[Any]:
        with connect("postgres", database=self.warehouse.pg_database, user=login,
                     autocommit=True) as conn:
            yield conn.cursor()

    def rows_as(self, login: str, sql: str) -> list[tuple]:
        with self.connect_as(login) as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    def tenants_seen(self, login: str, mart: str) -> set[int]:
        return {row[0] for row in self.rows_as(login, f"select distinct tenant_id from marts.{mart}")}

    def owner_count(self, mart: str, tenant_id: int) -> int:
        rows = self.warehouse.query(
            f"select count(*) as n from marts.{mart} where tenant_id = {tenant_id}"
        )
        return int(rows[0]["n"])


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Secured]:
    require_postgres()
    suffix = uuid.uuid4().hex[:8]
    reader, prefix = f"kr_{suffix}", f"kt_{suffix}_"
    warehouse = Warehouse("postgres", tmp_path)
    state = Secured(warehouse, reader, prefix, [])
    with patched_env({"KPI_READER_ROLE": reader, "KPI_TENANT_ROLE_PREFIX": prefix}):
        try:
            fixtures_hand.install(warehouse)
            warehouse.write_file("seeds/kpi_targets.csv",
                                 fixtures_hand.KPI_TARGETS_CSV + DORA_TARGETS)
            warehouse.build(fixtures_hand.AS_OF)
            warehouse.dbt("run-operation", "create_tenant_roles")
            yield state
        finally:
            warehouse.drop()  # the grants go with the database; then the roles can go
            with admin_cursor() as cursor:
                cursor.execute(
                    "select rolname from pg_roles where rolname = %s or rolname like %s",
                    (reader, f"{reader}\\_login%"),
                )
                logins_and_reader = [r[0] for r in cursor.fetchall()]
                cursor.execute("select rolname from pg_roles where starts_with(rolname, %s)",
                               (prefix,))
                tenant_roles = [r[0] for r in cursor.fetchall()]
                for role in [*state.logins, *tenant_roles, *logins_and_reader]:
                    cursor.execute(f"drop role if exists {role}")


def assert_isolated(secured: Secured) -> None:
    """The access rules, checked as real logins after whatever built the marts."""
    reader_only = secured.login(secured.reader)
    tenant_2 = secured.login(f"{secured.prefix}2")
    everyone = secured.login(f"{secured.prefix}all")

    # the reader role reads the marts: the shared catalogue whole (12 built-in KPIs) ...
    kpis = secured.rows_as(reader_only, "select kpi_name from marts.dim_kpi")
    assert {row[0] for row in kpis} == {
        "MTTR", "MTTR_MEDIAN", "MTTR_P90", "FCR", "SLA_COMPLIANCE", "SR_BACKLOG",
        "DEPLOY_SUCCESS_RATE", "DEPLOYMENT_FREQUENCY", "CHANGE_LEAD_TIME",
        "CHANGE_FAILURE_RATE", "FAILED_DEPLOYMENT_RECOVERY_TIME", "DEPLOYMENT_REWORK_RATE",
    }
    # ... but without a tenant role no tenant's rows
    for mart in TENANT_MARTS:
        assert secured.rows_as(reader_only, f"select count(*) from marts.{mart}") == [(0,)], mart
    assert secured.rows_as(reader_only, "select count(*) from marts.raw_data_quality") == [(0,)]

    # tenant 2's login: only tenant 2, and all of tenant 2 (counts read as the owner)
    for mart in TENANT_MARTS:
        assert secured.tenants_seen(tenant_2, mart) == {2}, mart
        seen = secured.rows_as(tenant_2, f"select count(*) from marts.{mart}")[0][0]
        assert seen == secured.owner_count(mart, 2) > 0, mart
    # the BI read, filtered by another tenant: nothing
    assert secured.rows_as(
        tenant_2, "select * from marts.kpi_scorecard where tenant_id = 3"
    ) == []

    # widening the scope: a session setting changes nothing (the policy reads role
    # membership, not settings) and another tenant's role cannot be taken
    with secured.connect_as(tenant_2) as cursor:
        cursor.execute("set kpi.tenant_id = '3'")
        cursor.execute("select distinct tenant_id from marts.fct_kpi_values")
        assert {row[0] for row in cursor.fetchall()} == {2}
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute(f"set role {secured.prefix}3")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute(f"set role {secured.prefix}all")

    # the all-tenants role sees every tenant, and the cross-tenant quality counts
    assert secured.tenants_seen(everyone, "fct_kpi_values") == TENANTS
    assert len(secured.rows_as(everyone, "select * from marts.raw_data_quality")) == 3

    # nothing but the marts, and no write anywhere
    for relation in ("raw.service_requests", "staging.stg_itsm__service_requests",
                     "staging.tenants", "intermediate.int_kpi__measurements"):
        with secured.connect_as(everyone) as cursor, pytest.raises(
            psycopg2.errors.InsufficientPrivilege, match="permission denied"
        ):
            cursor.execute(f"select * from {relation} limit 1")
    for statement in (
        "insert into marts.dim_kpi (kpi_name) values ('X')",
        "delete from marts.fct_kpi_values_daily",
        "update marts.kpi_scorecard set status = 'GREEN'",
        "create table marts.mine (x int)",
        "create table raw.mine (x int)",
        "create view marts.mine as select 1 as x",
    ):
        with secured.connect_as(everyone) as cursor, pytest.raises(
            psycopg2.errors.InsufficientPrivilege
        ):
            cursor.execute(statement)


def test_reader_and_tenant_roles_after_a_build(secured: Secured) -> None:
    assert_isolated(secured)


def test_every_tenant_mart_has_its_policy(secured: Secured) -> None:
    """Row-level security on every mart table with a tenant_id column, found in the
    catalogue (not in the project's yml), and security_invoker on every mart view."""
    tables = secured.warehouse.query("""
        select tables.relname as name, tables.relkind as kind, tables.relrowsecurity as rls,
            tables.reloptions as options,
            (select count(*) from pg_policies
             where schemaname = 'marts' and tablename = tables.relname) as policies
        from pg_class as tables
        inner join pg_namespace on tables.relnamespace = pg_namespace.oid
        where pg_namespace.nspname = 'marts' and tables.relkind in ('r', 'v')
            and exists (select from pg_attribute where attrelid = tables.oid
                        and attname = 'tenant_id' and not attisdropped)
    """)
    names = {row["name"] for row in tables}
    assert set(TENANT_MARTS) | {"rejected_raw_rows", "flagged_raw_rows"} <= names
    for row in tables:
        if row["kind"] == "v":
            assert "security_invoker=true" in (row["options"] or []), row
        else:
            assert row["rls"] and row["policies"] == 1, row


def test_isolation_survives_rebuilds(secured: Secured) -> None:
    """A windowed (incremental) run, a rebuild and a --full-refresh (the fact tables
    swapped for new ones): the rules hold after each, and the incremental run leaves the
    policies as they were (not dropped and re-created)."""
    warehouse = secured.warehouse

    def policy_oids() -> list[int]:
        rows = warehouse.query(
            "select pg_policy.oid from pg_policy inner join pg_class"
            " on pg_policy.polrelid = pg_class.oid"
            " where pg_class.relname = 'fct_kpi_values_daily'"
        )
        return [row["oid"] for row in rows]

    before = policy_oids()
    with patched_env({"KPI_MIN_DATE": "2024-03-14", "KPI_MAX_DATE": "2024-03-16"}):
        warehouse.build(fixtures_hand.AS_OF, "--select", "fct_kpi_values_daily+",
                        data_tests=False)
    assert policy_oids() == before and len(before) == 1
    assert_isolated(secured)

    warehouse.build(fixtures_hand.AS_OF, data_tests=False)
    assert_isolated(secured)

    warehouse.build(fixtures_hand.AS_OF, "--full-refresh", data_tests=False)
    assert policy_oids() != before
    assert_isolated(secured)


def test_bad_role_names_are_refused(tmp_path: Path) -> None:
    require_postgres()
    warehouse = Warehouse("postgres", tmp_path)
    try:
        for setting, value in (("KPI_READER_ROLE", "bi; drop schema raw"),
                               ("KPI_TENANT_ROLE_PREFIX", "Tenant-")):
            with patched_env({setting: value}), pytest.raises(
                DbtBuildError, match="Invalid value for (reader_role|tenant_role_prefix)"
            ):
                warehouse.dbt("run", "--select", "dim_kpi")
    finally:
        warehouse.drop()


def test_a_reader_role_from_vars(secured: Secured) -> None:
    """The reader role can also come from --vars (reader_role), as dbt vars do."""
    other = f"{secured.reader}_v"
    try:
        secured.warehouse.dbt("run", "--select", "dim_kpi", as_of=fixtures_hand.AS_OF,
                              variables={"reader_role": other})
        grantees = secured.warehouse.query(
            "select grantee from information_schema.role_table_grants"
            " where table_schema = 'marts' and table_name = 'dim_kpi'"
            " and privilege_type = 'SELECT'"
        )
        assert other in {row["grantee"] for row in grantees}
    finally:
        secured.warehouse.drop()
        with admin_cursor() as cursor:
            cursor.execute(f"drop role if exists {other}")


def readme_setup_sql() -> str:
    """The SQL block of the README's "A least-privilege setup" section."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("### A least-privilege setup", 1)[1]
    return section.split("```sql", 1)[1].split("```", 1)[0]


def test_the_readme_least_privilege_setup(tmp_path: Path) -> None:
    """The README's setup, run as written (names made unique, psql variables filled in):
    a transformer with no superuser or CREATEROLE builds everything, and the BI logins it
    creates see what the README says."""
    require_postgres()
    p = f"k{uuid.uuid4().hex[:6]}_"
    warehouse = Warehouse("postgres", tmp_path)
    sql = (readme_setup_sql().replace("kpi_", p)
           .replace("database kpi ", f'database "{warehouse.pg_database}" ')
           .replace(":'", "'"))
    roles = [f"{p}{name}" for name in ("acme_bi", "internal_bi", "tenant_2", "tenant_all",
                                       "reader", "transformer")]
    try:
        fixtures_hand.install(warehouse)  # the raw tables, owned by the administrator
        warehouse.execute(sql)
        transformer = {"PGUSER": f"{p}transformer", "PGPASSWORD": "transformer_password",
                       "KPI_READER_ROLE": f"{p}reader", "KPI_TENANT_ROLE_PREFIX": f"{p}tenant_"}
        with patched_env(transformer):
            warehouse.build(fixtures_hand.AS_OF)
        state = Secured(warehouse, f"{p}reader", f"{p}tenant_", [])
        assert state.tenants_seen(f"{p}acme_bi", "fct_kpi_values") == {2}
        assert state.tenants_seen(f"{p}internal_bi", "kpi_scorecard") == TENANTS
        with state.connect_as(f"{p}acme_bi") as cursor, pytest.raises(
            psycopg2.errors.InsufficientPrivilege
        ):
            cursor.execute("create temporary table mine (x int)")
        owners = warehouse.query(
            "select distinct tableowner from pg_tables where schemaname = 'marts'"
        )
        assert [row["tableowner"] for row in owners] == [f"{p}transformer"]
    finally:
        warehouse.drop()
        with admin_cursor() as cursor:
            for role in roles:
                cursor.execute(f"drop role if exists {role}")


def test_a_transformer_that_may_not_create_roles_is_told_what_to_do(tmp_path: Path) -> None:
    require_postgres()
    p = f"k{uuid.uuid4().hex[:6]}_"
    warehouse = Warehouse("postgres", tmp_path)
    try:
        fixtures_hand.install(warehouse)
        warehouse.execute(
            f"create role {p}transformer login; "
            f'grant create on database "{warehouse.pg_database}" to {p}transformer; '
            f"grant usage on schema raw to {p}transformer; "
            f"grant select on all tables in schema raw to {p}transformer"
        )
        with patched_env({"PGUSER": f"{p}transformer", "KPI_READER_ROLE": f"{p}reader",
                          "KPI_TENANT_ROLE_PREFIX": f"{p}tenant_"}), pytest.raises(
            DbtBuildError, match=f"role {p}reader does not exist and {p}transformer may not create roles"
        ):
            warehouse.dbt("run", "--select", "dim_kpi")
    finally:
        warehouse.drop()
        with admin_cursor() as cursor:
            cursor.execute(f"drop role if exists {p}transformer")
