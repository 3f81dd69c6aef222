import numpy as np

from recommender.data import Interactions, ItemMeta, build_training_data
from recommender.sources.collaborative import EASE, ImplicitALS, PureSVD, RP3Beta, UserKNN, confidence_input
from recommender.sources.content import ContentSource, tokenize
from recommender.sources.popularity import PopularitySource
from recommender.sources.social import SocialSource


def interactions(pairs, stamps=None):
    users, items = zip(*pairs, strict=True)
    n = len(pairs)
    ts = np.full(n, np.nan) if stamps is None else np.array(stamps, dtype=float)
    return Interactions(np.array(users, dtype=object), np.array(items, dtype=object), np.ones(n), ts)


def ranked(data, scores, user):
    row = scores[0] if scores.ndim == 2 else scores
    seen = set(data.X[data.user_index[user]].indices)
    return [data.item_ids[i] for i in np.argsort(-row, kind="stable") if i not in seen]


def co_occurrence_data():
    # Everyone who has a also has b; c goes with d. "me" has only a.
    pairs = [(f"p{i}", "a") for i in range(6)] + [(f"p{i}", "b") for i in range(6)]
    pairs += [(f"q{i}", "c") for i in range(6)] + [(f"q{i}", "d") for i in range(6)] + [("me", "a")]
    pairs += [("p0", "c"), ("q0", "e")]
    return build_training_data(interactions(pairs))


def test_collaborative_sources_follow_co_occurrence():
    data = co_occurrence_data()
    me = data.X[[data.user_index["me"]]]
    for model in (
        EASE(l2=1.0, beta=0.0, min_support=1),
        RP3Beta(alpha=1.0, beta=0.0),
        PureSVD(factors=3),
        ImplicitALS(factors=3, regularization=0.1, alpha=5.0, iterations=10),
        UserKNN(neighbours=10),
    ):
        model.fit(data.X)
        assert ranked(data, model.score(me), "me")[0] == "b", type(model).__name__


def test_als_starts_average_the_scores_of_independent_random_starts():
    data = co_occurrence_data()
    me = data.X[[data.user_index["me"]]]
    settings = dict(factors=3, regularization=0.1, alpha=5.0, iterations=4)
    both = ImplicitALS(**settings, seed=5, starts=2).fit(data.X)
    first = ImplicitALS(**settings, seed=5).fit(data.X)
    second = ImplicitALS(**settings, seed=5 + 97).fit(data.X)
    assert both.Y.shape == (data.n_items, 6)
    assert not np.allclose(first.score(me), second.score(me))  # the starts really differ
    np.testing.assert_allclose(both.score(me), (first.score(me) + second.score(me)) / 2, rtol=1e-4, atol=1e-6)
    assert ranked(data, both.score(me), "me")[0] == "b"


def test_user_knn_leaves_users_out_of_their_own_neighbours():
    data = build_training_data(interactions([("solo", "a"), ("solo", "x"), ("pal", "a"), ("pal", "y")]))
    solo = data.user_index["solo"]
    model = UserKNN(neighbours=10).fit(data.X)
    with_self = model.score(data.X[[solo]])[0]
    without = model.score(data.X[[solo]], np.array([solo]))[0]
    assert with_self[data.item_index["x"]] > 0  # only solo has x: it can come from solo alone
    assert without[data.item_index["x"]] == 0 and without[data.item_index["y"]] > 0


def test_user_knn_damping_lets_a_shared_niche_item_outweigh_a_shared_hit():
    pairs = [("me", "hit"), ("me", "niche"), ("ann", "hit"), ("ann", "a_item"), ("bob", "niche"), ("bob", "b_item")]
    pairs += [(f"fan{i}", "hit") for i in range(20)]
    data = build_training_data(interactions(pairs))
    me = data.user_index["me"]
    plain = UserKNN(neighbours=1, beta=0.0).fit(data.X).score(data.X[[me]], np.array([me]))[0]
    damped = UserKNN(neighbours=1, beta=0.5).fit(data.X).score(data.X[[me]], np.array([me]))[0]
    a, b = data.item_index["a_item"], data.item_index["b_item"]
    assert plain[b] == 0  # undamped, a fan who shares only the hit is the nearest
    assert damped[b] > 0 and damped[a] == 0


def test_log_confidence_is_relative_to_each_users_median_weight():
    import scipy.sparse as sp

    X = sp.csr_matrix(np.array([[1.0, 2.0, 4.0], [100.0, 200.0, 400.0]]))
    C = confidence_input(X, "log").toarray()
    assert np.allclose(C[0], C[1]) and C[0, 2] > C[0, 1] > C[0, 0] > 0


def test_ease_keeps_only_supported_items():
    data = co_occurrence_data()
    model = EASE(l2=1.0, min_support=2).fit(data.X)
    assert data.item_index["e"] not in set(model.items)
    assert model.score(data.X[[0]])[0, data.item_index["e"]] == 0


def test_social_source_prefers_what_followees_engaged_with_and_reaches_a_second_hop():
    pairs = [("me", "x"), ("ann", "x"), ("ann", "new"), ("bob", "far"), ("stranger", "other")]
    followers = np.array(["me", "ann"], dtype=object)
    followees = np.array(["ann", "bob"], dtype=object)
    data = build_training_data(interactions(pairs), followers, followees)
    source = SocialSource(second_hop=0.5).fit(data)
    scores = source.score(np.array([data.user_index["me"]]))
    order = ranked(data, scores["social"], "me")
    assert order[:2] == ["new", "far"]
    assert scores["followees"][0, data.item_index["new"]] == 1
    assert scores["social"][0, data.item_index["other"]] == 0


def test_social_source_decays_old_engagement():
    day = 86400.0
    pairs = [("me", "x"), ("ann", "old"), ("ann", "fresh")]
    data = build_training_data(
        interactions(pairs, [100 * day, 0.0, 100 * day]),
        np.array(["me"], dtype=object),
        np.array(["ann"], dtype=object),
    )
    scores = SocialSource(half_life_days=10).fit(data).score(np.array([data.user_index["me"]]))["social"][0]
    assert scores[data.item_index["fresh"]] > scores[data.item_index["old"]] > 0


def test_content_source_finds_cold_items_by_tags_and_chinese_words():
    assert "口红" in tokenize("这款口红很好看")
    meta = ItemMeta(
        ["a", "b", "cold", "other"],
        ["红色口红", "口红推荐", "新款口红", "登山鞋"],
        [["beauty"], ["beauty"], ["beauty"], ["outdoor"]],
    )
    data = build_training_data(interactions([("me", "a"), ("u", "b"), ("u", "other")]), extra_items=["cold"])
    source = ContentSource(min_df=1).fit(data.item_ids, meta)
    order = ranked(data, source.score(data.X[[data.user_index["me"]]]), "me")
    assert order.index("cold") < order.index("other")
    similar, _ = source.similar(data.item_index["a"], 2)
    assert data.item_index["other"] not in similar


def test_popularity_counts_users_and_ranks_within_community():
    data = build_training_data(interactions([("u1", "a"), ("u2", "a"), ("u1", "b"), ("u3", "c")]))
    communities = np.array(["m", "m", "n"], dtype=object)
    source = PopularitySource().fit(data, communities)
    assert source.popularity[data.item_index["a"]] == 2
    assert source.community_rank[data.item_index["a"]] == 1.0
    assert source.community_rank[data.item_index["b"]] == 0.5
