"""The public notice: working-day period, settings validation, rows per track."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from contest import awards, notice
from contest.errors import AwardError
from contest.models import AuditEvent, AwardTier, Role, TrackKind
from tests import factories


@pytest.mark.parametrize(("start", "days", "end"), [
    (date(2024, 5, 20), 5, date(2024, 5, 24)),  # Monday → Friday
    (date(2024, 5, 24), 5, date(2024, 5, 30)),  # Friday → Thursday, weekend skipped
    (date(2024, 5, 25), 5, date(2024, 5, 31)),  # Saturday: starts on Monday 27th
    (date(2024, 5, 22), 1, date(2024, 5, 22)),
    (date(2024, 5, 22), 10, date(2024, 6, 4)),
])
def test_add_working_days_skips_weekends(start, days, end):
    assert notice.add_working_days(start, days) == end


def test_add_working_days_needs_a_positive_count():
    with pytest.raises(ValueError):
        notice.add_working_days(date(2024, 5, 20), 0)


def test_period_defaults_to_five_working_days_and_the_editor_may_set_the_end(session,
                                                                            contest, editor):
    n = notice.get_notice(session, contest)
    assert n.working_days == 5 and n.title == f"关于{contest.name}拟获奖名单的公示"
    assert notice.notice_period(n) is None
    notice.update_notice(session, contest, editor, starts_on=date(2024, 9, 27))
    assert notice.notice_period(n) == (date(2024, 9, 27), date(2024, 10, 3))
    # National Day holidays are unknown to the program: the editor moves the end
    notice.update_notice(session, contest, editor, ends_on=date(2024, 10, 11))
    assert notice.notice_period(n) == (date(2024, 9, 27), date(2024, 10, 11))
    with pytest.raises(AwardError) as err:
        notice.update_notice(session, contest, editor, ends_on=date(2024, 9, 1))
    assert err.value.code == "notice_dates"
    assert n.ends_on == date(2024, 10, 11)  # nothing changed by the refused update
    session.commit()
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "notice.update")
                             ).all()
    assert events[-1].new == {"ends_on": "2024-10-11"}


def test_sections_list_winners_with_names_once_final_and_vacant_tiers(session, contest, editor):
    jurors = [factories.make_user(session, Role.juror) for _ in range(2)]
    unit = factories.make_unit(session, "太原市第一职业中学")
    e1 = factories.make_entry(session, unit, title="技能点亮人生", authors="张三",
                              adviser="王老师")
    e2 = factories.make_entry(session, unit, title="匠心传承", authors="李四", adviser="赵老师")
    round_ = factories.make_results_round(session, TrackKind.vet_week, jurors,
                                          criteria=[("总分", "", 100)])
    for entry, pts in ((e1, 90), (e2, 80)):
        for juror in jurors:
            factories.make_review(session, round_, entry, juror, [pts])
    track = contest.track(TrackKind.vet_week)
    awards.update_plan(session, track, editor, quota_mode="count",
                       quotas={AwardTier.second: 1, AwardTier.third: 1}, vacant=["first"])
    awards.apply_placement(session, track, editor)
    provisional = notice.notice_sections(session, contest)[0]
    assert [(r.entry_code, r.title, r.unit, r.authors) for r in provisional.rows] == [
        (e1.code, "技能点亮人生", "", ""), (e2.code, "匠心传承", "", "")]
    assert not provisional.is_finalised
    awards.finalise(session, track, editor)
    sections = notice.notice_sections(session, contest)
    assert [s.track.kind for s in sections] == [TrackKind.vet_week, TrackKind.lifelong_week]
    vet = sections[0]
    assert vet.vacant == [AwardTier.first]
    assert [(r.tier, r.entry_code, r.title, r.unit, r.authors, r.adviser) for r in vet.rows] == [
        (AwardTier.second, e1.code, "技能点亮人生", "太原市第一职业中学", "张三", "王老师"),
        (AwardTier.third, e2.code, "匠心传承", "太原市第一职业中学", "李四", "赵老师")]
    assert sections[1].rows == []
