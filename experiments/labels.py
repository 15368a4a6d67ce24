"""English and Chinese labels for structures, shocks, metrics and UI words, and matplotlib
set-up for Chinese text.

``label("mean_satisfaction", "zh")`` gives ``"满意度"``; an unknown key is returned as it is.
``use_language("zh")`` points matplotlib at an installed CJK font.
"""

from __future__ import annotations

import matplotlib as mpl
from matplotlib import font_manager

from model.errors import ConfigError

LANGUAGES = ("en", "zh")

STRUCTURES = {
    "bureaucratic": ("bureaucratic", "科层制"),
    "party_led": ("party-led", "党建引领"),
    "grid": ("grid management", "网格化"),
    "sanshe": ("three-society linkage", "三社联动"),
    "decentralised": ("decentralised", "重心下移"),
    "co_governance": ("co-governance", "共建共治共享"),
    "canonical_pgg": ("canonical public goods game", "经典公共物品博弈"),
}

SHOCKS = {
    "none": ("no shock", "无冲击"),
    "epidemic": ("epidemic", "疫情"),
    "disaster": ("disaster", "灾害"),
}

_SPENDING_LINES = {
    "department_staff": ("department staff", "部门人员"),
    "devolved_staff": ("devolved staff", "下沉人员"),
    "grid_workers": ("grid workers", "网格员"),
    "digital_platform": ("digital platform", "数字平台"),
    "purchase_of_services": ("purchase of services", "政府购买服务"),
    "points_rewards": ("points rewards", "积分奖励"),
}

METRICS = {
    "participation_rate": ("participation rate", "参与率"),
    "resolution_rate": ("resolution rate", "解决率"),
    "mean_response_time": ("mean response time (days)", "平均响应时间(天)"),
    "median_response_time": ("median response time (days)", "响应时间中位数(天)"),
    "response_time_single": ("response time, one department (days)", "单部门诉求响应时间(天)"),
    "response_time_cross": ("response time, cross-cutting (days)", "跨部门诉求响应时间(天)"),
    "response_time_service": ("response time, service needs (days)", "服务需求响应时间(天)"),
    "backlog": ("backlog", "积压诉求"),
    "undiscovered_share": ("undiscovered share of open issues", "未发现诉求占比"),
    "abandoned": ("abandoned share", "放弃诉求占比"),
    "mean_trust": ("institutional trust", "制度信任"),
    "mean_satisfaction": ("satisfaction", "满意度"),
    "satisfaction_gini": ("satisfaction Gini across communities", "社区间满意度基尼系数"),
    "cost_per_resolved": ("cost per resolved issue", "每件办结诉求成本"),
    **{
        f"spending_{k}": (f"daily spending: {en}", f"当日支出: {zh}")
        for k, (en, zh) in _SPENDING_LINES.items()
    },
    "spending_total": ("daily spending", "当日总支出"),
    "n_social_orgs": ("social organisations", "社会组织数量"),
    "social_org_capacity": ("social workers", "社会组织社工人数"),
    "social_org_projects": ("social-organisation projects", "社会组织项目数"),
    "social_org_service_share": ("share of services run by social orgs", "社会组织承接服务占比"),
    "joint_dispatches": ("joint dispatches (whistle)", "吹哨联合派单次数"),
    "discovered_by_self_report": ("found by residents' reports", "居民自报发现"),
    "discovered_by_building_leader": ("found by building leaders", "楼栋长上报发现"),
    "discovered_by_grid_patrol": ("found by grid patrols", "网格巡查发现"),
    "discovered_by_digital_sensing": ("found by digital sensing", "数字感知发现"),
    "department_queue": ("department queue", "部门待办"),
    "local_queue": ("community queue", "社区待办"),
    "issues_created": ("issues raised", "诉求总数"),
    "issues_resolved": ("issues resolved", "已办结诉求"),
    "issues_open": ("open issues", "未解决诉求"),
    "issues_abandoned": ("issues abandoned", "放弃诉求数"),
    **{
        f"total_spending_{k}": (f"spending: {en}", f"累计支出: {zh}")
        for k, (en, zh) in _SPENDING_LINES.items()
    },
    "total_spending": ("total spending", "累计总支出"),
    "total_budget": ("total budget", "总预算"),
    "peak_backlog": ("peak backlog", "积压峰值"),
    "recovery_days": ("days to recover", "恢复天数"),
}

LEVERS = {
    "residents.synergy": ("co-production synergy r", "共建协同系数 r"),
    "government.devolution.authority": ("devolved authority", "下放事权"),
    "government.devolution.resources": ("devolved resources", "下沉资源"),
    "government.data_sharing": ("data sharing", "数据共享"),
    "party.whistle": ("whistle: joint dispatch", "吹哨报到"),
}

WORDS = {
    "title": ("cogov: urban co-governance", "cogov: 城市多元共治"),
    "day": ("day", "天"),
    "structure": ("structure", "治理结构"),
    "shock": ("shock", "冲击"),
    "seed": ("seed", "随机种子"),
    "mean": ("mean", "均值"),
    "colour_by": ("colour by", "着色"),
    "participation": ("participation", "参与"),
    "trust": ("trust", "信任"),
    "open_issues": ("open issues", "未解决诉求"),
    "co_producer": ("co-producer", "共建者"),
    "free_rider": ("free rider", "搭便车者"),
    "households": ("households", "居民户"),
    "shares": ("shares", "比例"),
    "custom_levers": ("override the structure's levers", "自定义杠杆(覆盖结构预设)"),
    "apply_hint": ("Press Reset to apply new parameters.", "按 Reset 应用新参数。"),
    "levers_in_use": ("levers in use", "当前杠杆"),
    "on": ("on", "开"),
    "off": ("off", "关"),
}

LABELS: dict[str, dict[str, str]] = {
    key: {"en": en, "zh": zh}
    for table in (STRUCTURES, SHOCKS, METRICS, LEVERS, WORDS)
    for key, (en, zh) in table.items()
}
"""Internal name -> {"en": ..., "zh": ...}."""

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Droid Sans Fallback",
    "Noto Serif CJK SC",
)
"""CJK font families matplotlib may find, best first."""


def check_language(lang: str) -> str:
    """``lang`` if it is a supported language, else a one-line ``ValueError``."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r} is not allowed; expected one of {', '.join(LANGUAGES)}")
    return lang


def label(key: str, lang: str = "en") -> str:
    """The label of ``key`` in ``lang`` ("en" or "zh"); ``key`` itself when unknown."""
    check_language(lang)
    return LABELS.get(key, {}).get(lang, key)


def _known_cjk_font() -> str | None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def cjk_font() -> str | None:
    """The family name of an installed CJK font matplotlib can use, or None.

    Fonts installed after matplotlib cached its font list are found by rescanning once.
    """
    found = _known_cjk_font()
    if found is None:
        known = {font.fname for font in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue  # a font file matplotlib cannot read
        found = _known_cjk_font()
    return found


def require_font(lang: str) -> str | None:
    """The font ``lang`` needs (a CJK font for "zh", None for "en"); a one-line
    :class:`ConfigError` when it is not installed. The ``cogov`` command checks this before
    any run."""
    check_language(lang)
    if lang != "zh":
        return None
    font = cjk_font()
    if font is None:
        raise ConfigError(
            "lang",
            "lang=zh needs a CJK font for Chinese labels; install one, e.g. "
            "`apt-get install fonts-noto-cjk` (or fonts-wqy-zenhei)",
        )
    return font


def use_language(lang: str) -> None:
    """Set matplotlib up to draw text in ``lang``: for "zh" a CJK font first (the default
    sans-serif fonts stay as fallback) and an ASCII minus sign, which CJK fonts lack."""
    font = require_font(lang)
    fonts = mpl.rcParamsDefault["font.sans-serif"]
    if font is not None:
        fonts = [font, *fonts]
    mpl.rcParams.update(
        {"font.family": "sans-serif", "font.sans-serif": fonts, "axes.unicode_minus": lang == "en"}
    )
