"""Skill search: exact name first, then BM25 over name, description and hints."""

from __future__ import annotations

import pytest

from codemode.skills import SkillIndexEntry, SkillSearchIndex, rank_skills
from codemode.skills._search import tokenize


def entry(name: str, description: str = "", *hints: str) -> SkillIndexEntry:
    return SkillIndexEntry(id=name, name=name, description=description, usage_hints=list(hints))


def names(entries: list[SkillIndexEntry]) -> list[str]:
    return [e.name for e in entries]


LIBRARY = [
    entry("fetch_github_stats", "Fetch star and fork counts of a GitHub repository"),
    entry("get_weather", "Current weather and forecast for a city"),
    entry("send_email", "Send an email message to one recipient", "needs an address"),
    entry("parse_csv", "Parse CSV text into rows of values"),
]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("fetch_github_stats", ["fetch", "github", "stat", "fetch_github_stat"]),
        ("fetchGithubStats", ["fetch", "github", "stat", "fetch_github_stat"]),
        ("HTTPServer", ["http", "server", "http_server"]),
        ("The weather, for a city!", ["weather", "city"]),
        ("use it when it rains", ["rain"]),
        ("classes boxes matches wishes", ["class", "box", "match", "wish"]),
        ("stats files address bus gas", ["stat", "file", "address", "bus", "gas"]),
        ("Top-10 repos", ["top", "10", "repo"]),
        ("", []),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_documents_and_queries_stem_alike() -> None:
    assert tokenize("boxes") == tokenize("box")
    assert tokenize("forecasts") == tokenize("forecast")


def test_relevant_skill_ranks_first() -> None:
    assert names(rank_skills(LIBRARY, "weather forecast in a city")) == ["get_weather"]
    assert names(rank_skills(LIBRARY, "github repository stars"))[0] == "fetch_github_stats"


def test_sharing_only_a_stop_word_is_no_match() -> None:
    entries = [entry("one_thing", "the best of it"), entry("get_weather", "weather of a city")]
    assert names(rank_skills(entries, "the weather of Paris")) == ["get_weather"]


def test_stop_words_alone_match_nothing() -> None:
    assert rank_skills(LIBRARY, "the of and for") == []


def test_no_shared_token_is_excluded() -> None:
    assert names(rank_skills(LIBRARY, "email")) == ["send_email"]
    assert rank_skills(LIBRARY, "kubernetes cluster") == []


def test_usage_hints_are_searched() -> None:
    assert names(rank_skills(LIBRARY, "address")) == ["send_email"]


def test_exact_name_comes_first_over_a_higher_score() -> None:
    entries = [
        entry("daily_report", "report report: the daily report, as a report"),
        entry("report", "sends an email"),
    ]
    # Without an exact name, BM25 prefers daily_report...
    assert names(rank_skills(entries, "reports")) == ["daily_report", "report"]
    # ...but the skill named exactly as the query comes first.
    assert names(rank_skills(entries, "report")) == ["report", "daily_report"]


@pytest.mark.parametrize(
    "query",
    ["fetch_github_stats", "  Fetch_GitHub_Stats ", "fetch github stats", "fetch-github-stats"],
)
def test_exact_name_ignores_case_spaces_and_hyphens(query: str) -> None:
    entries = [
        entry("github_stats", "fetch github stats: stats of github, fetch them"),
        entry("fetch_github_stats", "numbers"),
    ]
    assert names(rank_skills(entries, query))[0] == "fetch_github_stats"


def test_exact_name_is_returned_even_without_a_shared_token() -> None:
    entries = [entry("weather", "sunny"), entry("the", "")]
    assert names(rank_skills(entries, "The")) == ["the"]


def test_exact_name_appears_once() -> None:
    assert names(rank_skills(LIBRARY, "parse_csv", limit=10)) == ["parse_csv"]


def test_name_tokens_weigh_double() -> None:
    entries = [
        entry("daily_summary", "weather report"),
        entry("weather_report", "daily summary"),
    ]
    assert names(rank_skills(entries, "weather")) == ["weather_report", "daily_summary"]


def test_plural_query_matches_singular_text() -> None:
    entries = [entry("list_issue", "one issue of a box"), entry("other", "nothing here")]
    assert names(rank_skills(entries, "issues")) == ["list_issue"]
    assert names(rank_skills(entries, "boxes")) == ["list_issue"]


def test_camel_case_query_matches_snake_case_name() -> None:
    results = rank_skills(LIBRARY, "fetchGithubStats")
    assert names(results)[0] == "fetch_github_stats"


def test_camel_case_words_in_descriptions_are_split() -> None:
    entries = [entry("rows", "calls parseCsvRows"), entry("other", "unrelated")]
    assert names(rank_skills(entries, "csv")) == ["rows"]
    assert names(rank_skills(entries, "parse_csv_rows")) == ["rows"]


def test_whole_name_token_favours_the_full_name() -> None:
    entries = [
        entry("stats_fetch_github", "counts"),
        entry("fetch_github_stats", "counts"),
    ]
    # Both hold the three parts; only one holds the whole name as a token.
    assert names(rank_skills(entries, "FetchGithubStats")) == [
        "fetch_github_stats",
        "stats_fetch_github",
    ]


def test_limit_caps_results() -> None:
    entries = [entry(f"weather_{i}", "weather") for i in range(10)]
    assert len(rank_skills(entries, "weather", limit=3)) == 3
    assert len(rank_skills(entries, "weather")) == 5
    assert len(rank_skills(entries, "weather", limit=50)) == 10


def test_limit_counts_the_exact_name() -> None:
    entries = [entry(f"weather_{i}", "weather") for i in range(3)] + [entry("weather")]
    assert names(rank_skills(entries, "weather", limit=2)) == ["weather", "weather_0"]
    assert names(rank_skills(entries, "weather", limit=1)) == ["weather"]


@pytest.mark.parametrize("limit", [0, -1])
def test_non_positive_limit_returns_nothing(limit: int) -> None:
    assert rank_skills(LIBRARY, "parse_csv", limit=limit) == []


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_blank_query_returns_nothing(query: str) -> None:
    assert rank_skills(LIBRARY, query) == []


def test_empty_index_returns_nothing() -> None:
    index = SkillSearchIndex([])
    assert len(index) == 0
    assert index.search("weather") == []


def test_ties_keep_the_original_order() -> None:
    entries = [entry(name, "weather for a city") for name in ("copy_one", "copy_two", "copy_six")]
    assert names(rank_skills(entries, "weather")) == ["copy_one", "copy_two", "copy_six"]
    reverse = list(reversed(entries))
    assert names(rank_skills(reverse, "weather")) == ["copy_six", "copy_two", "copy_one"]


def test_more_matching_tokens_score_higher() -> None:
    entries = [
        entry("city_info", "facts about a city"),
        entry("city_weather", "weather of a city"),
    ]
    assert names(rank_skills(entries, "city weather")) == ["city_weather", "city_info"]


def test_repeated_query_tokens_change_nothing() -> None:
    once = names(rank_skills(LIBRARY, "email city"))
    assert names(rank_skills(LIBRARY, "email email email city")) == once


def test_rarer_token_weighs_more() -> None:
    entries = [
        entry("alpha", "common rare"),
        entry("beta", "common common"),
        entry("gamma", "common"),
    ]
    # "rare" is in one document, "common" in all three: alpha's one "rare" wins.
    assert names(rank_skills(entries, "common rare"))[0] == "alpha"


def test_index_is_reusable_and_matches_rank_skills() -> None:
    index = SkillSearchIndex(LIBRARY)
    for query in ("weather", "csv rows", "send_email", "github"):
        assert index.search(query) == rank_skills(LIBRARY, query)
        assert index.search(query) == index.search(query)


def test_index_keeps_its_own_list() -> None:
    entries = list(LIBRARY)
    index = SkillSearchIndex(entries)
    entries.clear()
    assert names(index.search("csv")) == ["parse_csv"]


def test_repr_says_what_is_indexed() -> None:
    assert repr(SkillSearchIndex(LIBRARY)).startswith("SkillSearchIndex(4 entries, ")
