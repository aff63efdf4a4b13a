"""Python-side Chinese text: error code → message, and enum display labels. Templates and
form labels carry their own Chinese; everything else the user reads comes from here
(STYLE.md §7). Messages name the rule and the actual value (GLOSSARY.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contest.errors import ContestError

UNIT_TYPE_LABELS = {
    "higher_vocational": "高职院校",
    "secondary_vocational": "中职学校",
    "open_university": "开放大学",
    "community_learning_centre": "社区学习中心",
    "city_bureau": "市教育局",
    "other": "其他",
}
ROLE_LABELS = {"entrant": "参赛单位", "juror": "评委", "editor": "编辑", "admin": "管理员"}
TRACK_LABELS = {"vet_week": "职业教育活动周", "lifelong_week": "全民终身学习活动周"}
ENTRY_STATUS_LABELS = {"draft": "暂存", "submitted": "已提交", "withdrawn": "已撤回",
                       "disqualified": "已取消参赛资格"}
AI_USE_LABELS = {"none": "否", "assisted": "辅助", "generated": "主要"}
ROUND_KIND_LABELS = {"preliminary": "初评", "second": "复评", "final": "终评"}
ROUND_STATUS_LABELS = {"draft": "未开始", "open": "进行中", "closed": "已结束"}
DEDUP_KIND_LABELS = {"exact": "完全相同", "duplicate": "重复", "similar": "相似"}
AWARD_LABELS = {"first": "一等奖", "second": "二等奖", "third": "三等奖", "merit": "优秀奖"}
AGGREGATE_METHOD_LABELS = {"mean": "平均分", "trimmed_mean": "去掉最高最低分后平均",
                           "zscore": "标准分（Z分数）"}
QUOTA_MODE_LABELS = {"count": "按名额（件）", "percent": "按比例（%）"}
VACANT_LABEL = "空缺"

FORMAT_LABELS = {  # Pillow format name → how users know it
    "JPEG": "JPG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF", "BMP": "BMP", "TIFF": "TIFF",
    "HEIF": "HEIC/HEIF", "AVIF": "AVIF", "MPO": "MPO（多图JPEG）", "SVG": "SVG", "ICO": "ICO",
    "PDF": "PDF", "HTML": "HTML网页", "TEXT": "文本",
}


ENTRY_FIELD_LABELS = {  # GLOSSARY.md; the entry form uses the same words
    "title": "作品名称", "authors": "作者", "adviser": "指导教师", "statement": "设计说明",
    "caption_time": "图片说明·时间", "caption_place": "图片说明·地点",
    "caption_people": "图片说明·人物", "caption_event": "图片说明·事件",
    "ai_use": "是否使用AI生成/辅助", "content_review_confirmed": "宣传部门意识形态审核",
    "content_reviewer": "审核人", "originality_confirmed": "原创承诺", "image": "海报图片",
}


def _when(value: Any) -> str:
    """A UTC datetime → '2024年5月12日 23:59' China Standard Time; text passes through."""
    from datetime import datetime

    from contest.timeutil import format_local

    return format_local(value) if isinstance(value, datetime) else str(value)


DEDUP_FLAG_STATUS_LABELS = {"open": "待处理", "not_duplicate": "不是重复",
                            "disqualified": "已取消参赛资格"}


def _duplicate_refused(p: dict[str, Any]) -> str:
    """DuplicateRefused (contest/dedup/service.py): the same unit's entry, same track or the
    other; a draft has no code yet and is named by its title."""
    if p.get("is_draft") or not p.get("entry_code"):
        name = f"暂存的作品《{p.get('entry_title') or '未命名'}》"
        where = "本单位" if p.get("same_track") else "本单位在另一赛道"
        return (f"该图片与{where}{name}重复，"
                + ("如需更换请使用“替换图片”" if p.get("same_track")
                   else "同一作品只能参加一个赛道"))
    if p.get("same_track"):
        return f"该图片与本单位已提交的作品 {p['entry_code']} 重复，如需更换请使用“替换图片”"
    return f"该图片与本单位在另一赛道提交的作品 {p['entry_code']} 重复，同一作品只能参加一个赛道"


def _dedup_already_decided(p: dict[str, Any]) -> str:
    from contest.timeutil import format_local

    if not p.get("at"):
        return "该配对已处理，无需重复处理"
    return f"该配对已由{p.get('by') or '其他编辑'}于{format_local(p['at'])}处理，无需重复处理"


def format_mb(size_bytes: int, *, precise: bool = False) -> str:
    """Bytes → '1.4MB' with MB = 1024×1024 bytes (RULES.md, our default); below 1 MB in KB
    ('4.4KB', 1 KB = 1024 bytes) and below 1 KB in bytes ('80字节').

    `precise=True` (rule messages): never round onto a whole number of MB the size is not,
    so 2 MiB − 1 byte or 10 MiB + 1 byte never reads as exactly "2MB" / "10MB" next to the
    rule it breaks; lists and pages use the short form."""
    if size_bytes < 1024:
        return f"{size_bytes}字节"
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.1f}".rstrip("0").rstrip(".") + "KB"
    mb = size_bytes / (1024 * 1024)
    if mb >= 100:
        return f"{mb:.0f}MB"
    text = f"{mb:.2f}".rstrip("0").rstrip(".")
    if precise and "." not in text and size_bytes != int(text) * 1024 * 1024:
        text = f"{mb:.6f}".rstrip("0")
    return f"{text}MB"


def format_pixels(count: int) -> str:
    """A pixel count in Chinese units: 100000000 → '1亿', 81000000 → '8100万'."""
    if count >= 100_000_000 and count % 10_000_000 == 0:
        return f"{count / 100_000_000:g}亿"
    if count >= 10_000:
        return f"{count / 10_000:g}万"
    return str(count)


def _fmt(p: dict[str, Any]) -> str:
    return FORMAT_LABELS.get(str(p.get("actual", "")).upper(), str(p.get("actual") or "未知"))


MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "format": lambda p: (f"图片格式仅支持 {p.get('allowed', 'JPG、PNG')}"
                         f"（当前文件实际为 {_fmt(p)} 格式）"),
    "width": lambda p: f"图片宽度不低于{p['min']}像素（当前：{p['actual']}像素）",
    "size_small": lambda p: (f"单张图片不低于{format_mb(p['min'])}、不高于{format_mb(p['max'])}"
                             f"（当前：{format_mb(p['actual'], precise=True)}）") if p.get("max") else
    f"单张图片不低于{format_mb(p['min'])}（当前：{format_mb(p['actual'], precise=True)}）",
    "size_large": lambda p: (f"单张图片不低于{format_mb(p['min'])}、不高于{format_mb(p['max'])}"
                             f"（当前：{format_mb(p['actual'], precise=True)}）") if p.get("min") else
    f"单张图片不高于{format_mb(p['max'])}（当前：{format_mb(p['actual'], precise=True)}）",
    "corrupt": lambda p: "文件已损坏或上传不完整，请重新导出为标准 JPG 或 PNG 后再上传"
    + (f"（{p['detail']}）" if p.get("detail") else ""),
    "empty": lambda p: "文件为空（0字节），请重新选择图片",
    "bomb": lambda p: (f"图片尺寸过大（{p['width']}×{p['height']}像素），"
                       f"像素总数不得超过{format_pixels(p['max_pixels'])}，请缩小后再上传")
    if p.get("width") else "图片尺寸过大，请缩小后再上传",
    "animated": lambda p: f"不支持动图或多帧图片（当前文件有{p.get('frames', '多')}帧），请导出为单张 JPG 或 PNG",
    "unsupported_jpeg": lambda p: "不支持该 JPEG 编码方式（如无损或算术编码），请重新导出为标准 JPG",
    "too_small_height": lambda p: f"图片高度过小（当前：{p['actual']}像素），请上传完整的海报",
    "aspect": lambda p: (f"图片长宽比例异常（当前：{p['width']}×{p['height']}像素），"
                         f"长边不得超过短边的{p['max']:g}倍，请上传完整的海报"),
    "image_ok": lambda p: (f"符合要求（{FORMAT_LABELS.get(p['format'], p['format'])}，"
                           f"{p['width']}×{p['height']}像素，{format_mb(p['size'])}）"),
    "phase_closed": lambda p: (f"已超过截止时间（{_when(p['deadline'])}），"
                               f"无法{p.get('action', '提交')}"),
    "not_open": lambda p: f"尚未开始征集（开始时间：{_when(p['opens'])}）",
    "quota": lambda p: (f"每个单位在“{p['track']}”赛道最多提交{p['max']}件作品"
                        f"（当前已提交：{p['count']}件）"),
    "duplicate_refused": lambda p: _duplicate_refused(p),
    "dedup_already_decided": lambda p: _dedup_already_decided(p),
    "dedup_bad_decision": lambda p: "请选择处理结果：不是重复，或取消其中一件作品的参赛资格",
    "not_assigned": lambda p: "该作品未分配给您评审",
    "conflict_of_interest": lambda p: "您与该作品所属单位存在回避关系，无法评分",
    "sheet_locked": lambda p: "您已提交本轮评分，评分表已锁定；如需修改请联系编辑解锁",
    "results_finalised": lambda p: "结果已确认发布，不能再修改",
    "plan_invalid": lambda p: p.get("detail", "获奖方案设置有误"),
    "plan_percent_sum": lambda p: f"各奖项比例之和不能超过100%（当前：{p['total']:g}%）",
    "award_no_round": lambda p: "该赛道还没有评审轮次，无法评定奖项",
    "award_no_scores": lambda p: "所选轮次还没有已提交的评分，无法评定奖项",
    "awards_not_placed": lambda p: "请先按获奖方案生成拟获奖名单，再确认发布",
    "override_reason_required": lambda p: "调整获奖等次须填写原因",
    "award_entry_not_in_track": lambda p: "该作品不属于本赛道",
    "notice_dates": lambda p: f"公示结束日期不能早于开始日期（当前：{p['starts']} 至 {p['ends']}）",
    "reopen_reason_required": lambda p: "撤销确认发布须填写原因",
    "score_range": lambda p: (f"“{p['criterion']}”的得分应在0～{p['max']:g}分之间"
                              f"（当前：{p['actual']}）"),
    "score_step": lambda p: f"“{p['criterion']}”的得分只能是整数或半分（当前：{p['actual']}）",
    "score_unknown_criterion": lambda p: "评分项不存在，请刷新页面后重试",
    "comment_too_long": lambda p: f"评语不超过{p['max']}字（当前：{p['actual']}字）",
    "round_not_open": lambda p: "本轮评审未开放或已结束，无法评分",
    "round_state": lambda p: (f"评审轮次当前状态为“{ROUND_STATUS_LABELS.get(str(p.get('status')))}”，"
                              "无法执行该操作"),
    "round_no_jurors": lambda p: "请至少选择一位评委",
    "round_no_entries": lambda p: "本轮没有可评审的作品",
    "round_entry_invalid": lambda p: "所选作品不属于本赛道或已撤回、已取消参赛资格",
    "round_rubric_locked": lambda p: "本轮已有评分，不能再修改评分标准",
    "rubric_invalid": lambda p: p.get("detail", "评分标准不完整"),
    "reason_required": lambda p: "请填写原因",
    "sheet_incomplete": lambda p: f"还有{p['missing']}件作品未完成评分，完成后才能提交本轮评分",
    "juror_invalid": lambda p: f"评委账号不存在或已停用：{p.get('login', '')}",
    "sheet_not_locked": lambda p: "该评委尚未提交评分表，无需解锁",
    "redaction_invalid": lambda p: "遮挡区域超出图片范围或过小，请重新框选",
    "already_submitted": lambda p: "该作品已提交",
    "invalid_entry": lambda p: p.get("detail", "作品信息不完整"),
    # entries service (contest/entries.py): p['field'] names the form field
    "required": lambda p: f"请填写{ENTRY_FIELD_LABELS.get(p.get('field', ''), '此项')}",
    "caption_missing": lambda p: (f"图片说明需写明时间、地点、人物、事件"
                                  f"（当前未填写：{ENTRY_FIELD_LABELS[p['field']][-2:]}）"),
    "too_long": lambda p: (f"{ENTRY_FIELD_LABELS.get(p.get('field', ''), '内容')}"
                           f"不超过{p['max']}字（当前：{p['actual']}字）"),
    "ai_use_missing": lambda p: "请选择是否使用AI生成/辅助（否 / 辅助 / 主要）",
    "content_review_missing": lambda p: "请确认作品已经过本单位宣传部门意识形态审核",
    "content_reviewer_missing": lambda p: "请填写宣传部门审核人姓名",
    "originality_missing": lambda p: "请勾选原创承诺",
    "image_missing": lambda p: "请上传海报图片（JPG 或 PNG）",
    "not_editable": lambda p: (f"该作品{ENTRY_STATUS_LABELS.get(str(p.get('status')), '')}，"
                               "不能再修改"),
    "in_judging": lambda p: (f"作品已进入评审，不能再{p.get('action', '修改')}"
                             "（评审、公示和发布都以评审时的作品为准）"),
    "rules_broken": lambda p: f"有{p.get('count', '')}项不符合要求，请按提示修改后再提交",
    "busy": lambda p: "系统繁忙，请稍后重试（已填写的内容仍在页面上）",
    "import_row": lambda p: f"第{p.get('row')}行：{p.get('detail', '')}",
}


# import-units (contest/units.py): column codes → headers, and one message per row problem.
UNIT_COLUMN_LABELS = {"name": "单位名称(name)", "city": "市(city)",
                      "unit_type": "单位类型(unit_type)", "login": "登录名(login)"}
UNIT_ROW_REASONS: dict[str, Callable[[Any], str]] = {
    "missing": lambda e: f"缺少{UNIT_COLUMN_LABELS[e.column]}",
    "too_long": lambda e: f"单位名称不超过{e.other}个字（当前：{len(e.value)}个字）",
    "city": lambda e: (f"市“{e.value}”不是山西省的11个市之一"
                       "（可填“太原市”“太原”或代码“140100”）"),
    "unit_type": lambda e: (f"单位类型“{e.value}”无法识别（可填："
                            + "、".join(UNIT_TYPE_LABELS.values()) + "，或对应英文代码）"),
    "login_format": lambda e: (f"登录名“{e.value}”不符合要求（3–64个字符，只能用英文字母、"
                               "数字、下划线、点和短横线，以字母或数字开头）"),
    "duplicate_name": lambda e: f"单位名称“{e.value}”与第{e.other}行重复",
    "duplicate_login": lambda e: f"登录名“{e.value}”与第{e.other}行重复",
    "login_taken": lambda e: (f"登录名“{e.value}”已是{ROLE_LABELS.get(e.other, e.other)}账号，"
                              "不能用作参赛单位账号"),
    "name_taken": lambda e: (f"单位名称“{e.value}”已被另一个单位使用"
                             + (f"（账号：{e.other}）" if e.other else "")),
    "unit_has_other_login": lambda e: (f"该单位已有账号 {e.other}，与本行登录名“{e.value}”不一致；"
                                       "如确需第二个账号，请用 create-user --unit 创建"),
}


def unit_row_message(error: Any) -> str:
    """'第3行：…' for a `contest.units.UnitRowError`."""
    build = UNIT_ROW_REASONS.get(error.reason)
    return f"第{error.row}行：" + (build(error) if build else error.reason)


def _unit_import(p: dict[str, Any]) -> str:
    if p.get("errors"):
        return "\n".join(unit_row_message(e) for e in p["errors"])
    reason = p.get("reason")
    if reason == "columns":
        return ("文件缺少以下列：" + "、".join(UNIT_COLUMN_LABELS[c] for c in p["detail"])
                + "（第一行须为表头：name, city, unit_type, login）")
    if reason == "empty":
        return "文件中没有数据行"
    return "无法读取文件，请使用 CSV（UTF-8 或 GBK 编码）或 Excel（.xlsx）格式"


MESSAGES["unit_import"] = _unit_import

def message_for(error: ContestError) -> str:
    """The Chinese message for `error` (its `code` and `params`); a generic one if unknown."""
    build = MESSAGES.get(error.code)
    if build is None:
        return str(error.params.get("detail") or "操作失败，请检查后重试")
    try:
        return build(error.params)
    except (KeyError, TypeError, ValueError):
        return str(error.params.get("detail") or "操作失败，请检查后重试")


AUDIT_ACTION_LABELS = {  # AuditEvent.action → 操作日志; unknown actions show their code
    "round.create": "创建评审轮次", "round.update": "修改轮次设置", "round.rubric": "修改评分标准",
    "round.add_juror": "增加评委", "round.open": "开启轮次", "round.close": "结束轮次",
    "round.assign": "分配作品", "assignment.deactivate": "撤销分配",
    "score.update": "评分修改", "sheet.submit": "提交评分表", "sheet.unlock": "解锁评分表",
    "sheet.reopen": "评分表重新打开（新分配）", "conflict.declare": "评委申报回避",
    "conflict.record": "编辑记录回避", "redaction.add": "添加遮挡", "redaction.remove": "移除遮挡",
    "user.create": "新建账号", "entry.submit": "提交作品", "entry.withdraw": "撤回作品",
    "entry.disqualify": "取消参赛资格", "entry.replace_image": "替换图片",
    "dedup.decide": "查重处理", "results.method": "修改计分方法",
    "entry.import": "导入作品", "entry.update": "修改作品信息", "awards.plan": "修改奖项设置", "awards.place": "评定奖项",
    "awards.override": "调整获奖等次", "awards.override_clear": "取消等次调整",
    "awards.rules": "修改优秀组织奖规则", "awards.organisation_propose": "提名优秀组织奖",
    "awards.organisation_decide": "确定优秀组织奖", "notice.update": "修改公示信息",
    "results.finalise": "确认发布结果", "results.reveal_names": "揭示获奖者信息",
    "results.reopen": "重新打开结果", "export.results": "导出评审结果",
}
AUDIT_OBJECT_LABELS = {
    "rounds": "轮次", "round_jurors": "评分表", "reviews": "评分", "assignments": "分配",
    "conflicts_of_interest": "回避", "redactions": "遮挡", "entries": "作品", "users": "账号",
}
AUDIT_FIELD_LABELS = {  # keys of AuditEvent.old/new snapshots; criteria show their own names
    "": "值", "status": "状态", "name": "名称", "kind": "轮次", "comment": "评语",
    "submitted_at": "提交时间", "opens_at": "开始时间", "closes_at": "截止时间",
    "jurors_per_entry": "每件作品评委人数", "show_title": "显示作品名称",
    "show_statement": "显示设计说明", "criteria": "评分标准", "jurors": "评委", "entries": "作品数",
    "juror": "评委", "juror_id": "评委", "entry_id": "作品", "unit_id": "单位",
    "round_id": "轮次", "is_active": "有效", "x": "左", "y": "上", "w": "宽", "h": "高",
    "assignments": "分配数", "shortfalls": "评委不足的作品", "created": "新增分配",
    "kept": "保留分配", "removed": "撤销分配", "pairs": "新分配", "load_spread": "评委任务量差",
    "login": "账号", "display_name": "姓名", "role": "角色", "unit": "单位", "alias": "代号",
    "closed_at": "结束时间", "seed": "随机种子", "track_id": "赛道",
    "previous_round_id": "上一轮",
    "code": "作品编号", "status_reason": "原因", "sha256": "图片SHA-256",
    "entry_file_id": "图片文件ID", "duplicate_flag_id": "查重记录ID",
}
AUDIT_REASON_LABELS = {  # reason codes the services log (assignment.deactivate, sheet.reopen)
    "conflict": "回避", "same_unit": "评委与作品同单位", "same_city": "评委与作品同城市",
    "left_round": "评委已不在本轮", "entry_left_round": "作品已不在本轮",
    "new_assignment": "分配了新作品",
}
MESSAGES.update({  # contest/accounts.py (juror accounts made by editors)
    "login_taken": lambda p: f"账号已存在：{p.get('login', '')}",
    "login_invalid": lambda p: (f"账号为3到64位字母、数字、点、下划线或连字符，且须填写姓名"
                                f"（当前账号：{p.get('login', '')}）"),
})
MESSAGES.update({  # contest/wechat.py (the WeChat package, 公众号图文)
    "wechat_no_winners": lambda p: f"“{p.get('track', '')}”还没有获奖作品，无法导出公众号图文",
    "wechat_title_too_long": lambda p: f"标题不超过{p['max']}个字（当前：{p['actual']}个字）",
    "wechat_digest_too_long": lambda p: f"摘要不超过{p['max']}个字（当前：{p['actual']}个字）",
    "wechat_focus_invalid": lambda p: (f"封面焦点须为0到1之间的两个数，如 0.5,0.4"
                                       f"（当前：{p.get('value', '')}）"),
    "wechat_cover_not_winner": lambda p: (f"封面须取自本赛道的获奖作品"
                                          f"（当前：{p.get('entry_code', '')}）"),
    "wechat_image_missing": lambda p: (f"作品 {p.get('entry_code', '')} 的原图文件缺失，"
                                       f"无法导出"),
    "wechat_image_unreadable": lambda p: (f"作品 {p.get('entry_code', '')} 的原图无法读取，"
                                          f"无法导出"),
    "wechat_image_budget": lambda p: (f"图片 {p.get('name', '')} 压缩后仍超过1MB"
                                      f"（当前：{format_mb(p.get('size', 0))}）"),
})
AUDIT_ACTION_LABELS["export.wechat"] = "导出公众号图文"
# The WeChat package's defaults and index columns (contest/wechat.py); the article and
# captions.txt themselves are templates/wechat/*.
WECHAT_WINNERS_WORD = {True: "获奖作品", False: "拟获奖作品"}  # by is_final
WECHAT_TITLE_PATTERNS = ("{contest}{track}{winners}", "{track}海报大赛{winners}",
                         "{track}{winners}")  # the first that fits the title limit
WECHAT_DIGEST_PATTERN = {
    True: "{contest}“{track}”评审结果揭晓，共评出获奖作品{n}件（{tally}），现予展示。",
    False: "{contest}“{track}”拟获奖作品{n}件（{tally}），确认发布前仅供内部审核，请勿对外发布。",
}
WECHAT_CSV_HEADERS = ("序号", "奖项", "作品编号", "作品名称", "参赛单位", "作者", "指导教师",
                      "图片说明：时间", "图片说明：地点", "图片说明：人物", "图片说明：事件",
                      "图片文件", "结果状态")
WECHAT_RESULT_STATE = {True: "已确认发布", False: "拟获奖（未确认发布）"}
WECHAT_WITHHELD = "（确认发布后显示）"  # unit, authors, adviser before finalisation
