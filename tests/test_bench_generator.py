"""The benchmark database generator: deterministic, realistic, rule-abiding."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

from sqlalchemy import BigInteger, func, select, type_coerce

from db.database import open_database
from db.models import Commune, FundingLine, Operation, Payment, operation_commune
from db.rules import blocking
from db.services.operations import check_operation, load_operation_data
from db.vocabulary import COMMITTED_OPERATION_STATUSES

spec = importlib.util.spec_from_file_location(
    "bench_generate", Path(__file__).parent / "bench" / "generate.py")
generator = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generator)


def fingerprint(database):
    with database.read() as session:
        ids = session.scalars(select(Operation.id).order_by(Operation.reference)).all()
        cents = session.scalar(select(func.sum(type_coerce(FundingLine.amount_requested,
                                                           BigInteger))))
    return ids, cents


def test_same_arguments_give_the_same_database(tmp_path, sqlite_template):
    import shutil

    paths = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.sqlite"
        shutil.copyfile(sqlite_template, path)
        generator.generate(str(path), 300, seed=7)
        paths.append(path)
    first, second = (open_database(p) for p in paths)
    assert fingerprint(first) == fingerprint(second)
    assert len(fingerprint(first)[0]) == 300
    first.close()
    second.close()


def test_generated_data_is_realistic_and_respects_the_rules(db):
    url = str(db.target.path) if db.is_sqlite else db.target.url.render_as_string(
        hide_password=False)
    counts = generator.generate(url, 400, seed=11)
    assert counts["operation"] == 400 and counts["contract"] == 4
    assert counts["funding_line"] > 400 and counts["payment"] > 100
    with db.read() as session:
        regions = session.scalars(
            select(Commune.departement_code).join(
                operation_commune, operation_commune.c.commune_code == Commune.code)
            .distinct()).all()
        assert set(regions) <= {"02", "59", "60", "62", "80"}
        statuses = set(session.scalars(select(Operation.status).distinct()))
        assert len(statuses) >= 6
        paid_over = session.scalar(
            select(func.count()).select_from(Payment).join(FundingLine)
            .where(type_coerce(Payment.amount, BigInteger)
                   > type_coerce(FundingLine.amount_granted, BigInteger)))
        assert paid_over == 0
        sample = session.scalars(select(Operation).order_by(Operation.reference)
                                 .limit(60)).all()
        for operation in sample:
            data = load_operation_data(session, operation)
            findings = check_operation(session, data, date(2026, 11, 1))
            committed = data.status in COMMITTED_OPERATION_STATUSES
            assert blocking(findings, committed) == [], (operation.reference, findings)
