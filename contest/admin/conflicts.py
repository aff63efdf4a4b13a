"""Editors: 回避管理 (conflicts of interest), routed on the rounds blueprint as
`admin.rounds.list_conflicts`.

Editors see every 回避 (declared by a juror while scoring, or recorded here) and record new
ones: a juror against a whole unit or one entry, always with a reason. Recording one runs
the assignment again (`assignment.assign`) in every open round the juror takes part in, so
the affected entries move to other jurors at once; existing scores of other pairs stay.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from contest import assignment
from contest.admin.rounds_forms import ConflictForm
from contest.admin.rounds_support import current_contest, juror_choices, unit_choices
from contest.db import get_session
from contest.errors import ContestError
from contest.messages import message_for
from contest.models import (ConflictOfInterest, Entry, Round, RoundJuror, RoundStatus, Unit,
                            User)


def list_conflicts():  # noqa: ANN201
    """GET: all 回避 records, newest first, and the form. POST: record one."""
    session = get_session()
    form = ConflictForm()
    form.juror.choices = [SelectChoice(0, "（请选择）")] + juror_choices(session)
    form.unit.choices = [SelectChoice(0, "（请选择）")] + unit_choices(session)
    status = 200
    if form.validate_on_submit():
        juror = session.get(User, form.juror.data)
        unit = entry = None
        if form.target.data == "unit":
            unit = session.get(Unit, form.unit.data)
        else:
            code = form.entry_code.data.strip().upper()
            contest = current_contest(session)
            entry = session.scalar(select(Entry).where(
                Entry.code == code,
                *([Entry.contest_id == contest.id] if contest is not None else [])))
            if entry is None:
                form.entry_code.errors.append(f"作品编号不存在：{code}")
        if juror is None or (unit is None and entry is None):
            status = 400
        else:
            try:
                assignment.record_conflict(session, juror, entry=entry, unit=unit,
                                           reason=form.reason.data, actor=current_user)
                open_rounds = session.scalars(
                    select(Round).join(RoundJuror, RoundJuror.round_id == Round.id)
                    .where(RoundJuror.juror_id == juror.id,
                           Round.status == RoundStatus.open).order_by(Round.id)).all()
                moved = 0
                for round_ in open_rounds:
                    moved += assignment.assign(session, round_, actor=current_user).removed
            except ContestError as err:
                session.rollback()
                flash(message_for(err), "error")
                status = 400
            else:
                session.commit()
                who = juror.display_name or juror.login
                target = unit.name if unit is not None else entry.code
                text = f"已记录回避：{who} × {target}"
                if open_rounds:
                    text += f"；已在{len(open_rounds)}个进行中的轮次重新分配（移出{moved}份评审任务）"
                flash(text, "success")
                return redirect(url_for("admin.rounds.list_conflicts"))
    elif form.is_submitted():
        status = 400
    conflicts = session.scalars(
        select(ConflictOfInterest)
        .options(selectinload(ConflictOfInterest.juror), selectinload(ConflictOfInterest.unit),
                 selectinload(ConflictOfInterest.entry))
        .order_by(ConflictOfInterest.created_at.desc(), ConflictOfInterest.id.desc())).all()
    declarers = {u.id: u for u in session.scalars(select(User).where(User.id.in_(
        {c.declared_by_id for c in conflicts if c.declared_by_id} or {-1})))}
    return render_template("admin/rounds/conflicts.html", form=form, conflicts=conflicts,
                           declarers=declarers), status
