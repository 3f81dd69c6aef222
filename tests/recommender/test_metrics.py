import math

import pytest

from recommender.metrics import coverage, evaluate_rankings, ndcg_at_k, recall_at_k


def test_recall_divides_by_the_smaller_of_k_and_relevant():
    assert recall_at_k(["a", "b", "c"], {"a", "c", "z"}, 2) == pytest.approx(1 / 2)
    assert recall_at_k(["a", "b", "c"], {"a", "c", "z"}, 3) == pytest.approx(2 / 3)
    assert recall_at_k(["a"], {"a"}, 20) == 1.0
    assert recall_at_k(["x"], set(), 20) == 0.0


def test_ndcg_matches_hand_computation():
    # hits at ranks 1 and 3 of 3 relevant, K=3: (1 + 1/log2(4)) / (1 + 1/log2(3) + 1/log2(4))
    expected = (1 + 0.5) / (1 + 1 / math.log2(3) + 0.5)
    assert ndcg_at_k(["a", "b", "c"], {"a", "c", "d"}, 3) == pytest.approx(expected)
    # one relevant at rank 2: ideal over min(K, 1) = 1 item
    assert ndcg_at_k(["x", "a"], {"a"}, 10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 2) == pytest.approx(1.0)


def test_coverage_counts_distinct_items_in_top_k():
    assert coverage({"u": ["a", "b", "c"], "v": ["a", "d"]}, 10, 2) == pytest.approx(3 / 10)


def test_evaluate_rankings_averages_over_users_with_test_items():
    result = evaluate_rankings({"u": ["a", "b"], "v": ["c"]}, {"u": ["b"], "v": ["x"], "w": []}, 4, ks=(1, 2))
    assert result["recall@1"] == 0.0
    assert result["recall@2"] == pytest.approx(0.5)
    assert result["ndcg@2"] == pytest.approx((1 / math.log2(3)) / 2)
    assert result["coverage@2"] == pytest.approx(3 / 4)
