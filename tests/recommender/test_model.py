import numpy as np
import pytest

from recommender import reasons as R
from recommender.model import Recommender, Settings
from recommender.rerank import diversify, mmr
from recommender.synthetic import generate


def test_recommendations_exclude_seen_and_excluded_items_and_carry_reasons(trained, synthetic):
    user = "u1"
    data = trained.data
    seen = {data.item_ids[i] for i in data.X[data.user_index[user]].indices}
    first = trained.recommend(user, k=10)
    blocked = {first[0].item_id, first[1].item_id}
    recs = trained.recommend(user, k=10, exclude=blocked)
    assert len(recs) == 10
    assert [r.rank for r in recs] == list(range(1, 11))
    assert not {r.item_id for r in recs} & (seen | blocked)
    assert all(r.reason.code and r.reason.text() for r in recs)
    assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)


def test_every_user_gets_k_items_with_reasons(trained):
    for _user, recs in trained.recommend_all(20):
        assert len(recs) == 20
        assert all(isinstance(r.reason, R.Reason) for r in recs)


def test_ranker_is_learned_on_enough_data_and_falls_back_on_tiny_data(trained):
    assert trained.ranker.learned
    tiny = generate(n_users=12, n_items=15, n_interactions=60, n_edges=20, seed=1)
    model = Recommender(Settings(seed=1)).fit(tiny.interactions, tiny.followers, tiny.followees)
    assert not model.ranker.learned
    recs = model.recommend(str(tiny.interactions.users[0]), k=5)
    assert 0 < len(recs) <= 5 and all(r.reason for r in recs)


def test_k_larger_than_the_catalogue_returns_what_exists():
    tiny = generate(n_users=12, n_items=15, n_interactions=60, n_edges=20, seed=2)
    model = Recommender(Settings(seed=2)).fit(tiny.interactions, tiny.followers, tiny.followees)
    user = str(tiny.interactions.users[0])
    have = model.data.X[model.data.user_index[user]].nnz
    recs = model.recommend(user, k=1000)
    assert len(recs) == model.data.n_items - have
    assert len({r.item_id for r in recs}) == len(recs)


def test_unknown_user_gets_popular_items_or_uses_given_history(trained):
    recs = trained.recommend("nobody", k=5)
    assert len(recs) == 5 and all(r.reason.code in (R.TRENDING, R.POPULAR) for r in recs)
    liked = trained.recommend("u1", k=3)[0].item_id
    recs = trained.recommend("nobody", k=5, seen=[liked])
    assert liked not in {r.item_id for r in recs}


def test_social_reason_names_a_followee(trained):
    codes = [r.reason for _, recs in trained.recommend_all(20) for r in recs]
    social = [r for r in codes if r.code == R.FOLLOWEES_ENGAGED]
    assert social, "some item should be explained by followees"
    followees = set(trained.data.user_ids)
    assert all(r.params["user_ids"][0] in followees and "you follow" in r.text() for r in social)


def test_a_reason_comes_from_the_family_strongest_on_its_own_scale(trained):
    import numpy as np

    row = next(r for r in range(trained.data.n_active) if trained.sources.social.trust[r].nnz)
    X_row = trained.data.X[row]
    followees = trained.sources.social.trust[row].indices
    items = np.flatnonzero(np.asarray(trained.sources.social.binary[followees].sum(axis=0)).ravel() > 0)
    items = np.setdiff1d(items, X_row.indices)[:3]
    zeros = np.zeros(len(items))

    def parts(**given):
        return {name: given.get(name, zeros) for name in ("ease", "als", "rp3", "neighbours", "social", "content",
                                                         "community")}

    # Four collaborative sources at 0.9 each used to outweigh a social score of 1 (and any tie went to them).
    strong = np.full(len(items), 0.9)
    social_first = trained._reasons(row, X_row, items, parts(ease=strong, als=strong, rp3=strong, neighbours=strong,
                                                             social=np.ones(len(items))))
    assert [r.code for r in social_first] == [R.FOLLOWEES_ENGAGED] * len(items)
    tie = trained._reasons(row, X_row, items, parts(ease=np.ones(len(items)), social=np.ones(len(items))))
    assert [r.code for r in tie] == [R.FOLLOWEES_ENGAGED] * len(items)
    # ... but a collaborative signal more than twice as strong on its own scale explains the item.
    collaborative = trained._reasons(row, X_row, items, parts(als=np.ones(len(items)), social=np.full(len(items), 0.4)))
    assert R.FOLLOWEES_ENGAGED not in [r.code for r in collaborative]


def test_similar_items_and_people_to_follow(trained):
    item = trained.data.item_ids[0]
    similar = trained.similar_items(item, k=5)
    assert similar and item not in {r.item_id for r in similar}
    with pytest.raises(KeyError):
        trained.similar_items("no-such-item")
    people = trained.people_to_follow("u1", k=5)
    followed = set(trained.data.user_ids[trained.data.follows[trained.data.user_index["u1"]].indices])
    assert people and not {p for p, _, _ in people} & (followed | {"u1"})
    assert all(
        reason.code in (R.FOLLOWED_BY_FOLLOWEES, R.SHARED_TASTE) and reason.text() for _, _, reason in people
    )


def test_diversify_caps_authors_and_communities_per_page():
    authors = [f"a{i % 3}" for i in range(60)]
    communities = [f"c{i % 5}" for i in range(60)]
    page = diversify(list(range(60)), 20, authors, communities, max_per_author=2, max_per_community=4)
    assert len(page) == 20
    # 3 authors x 2 = 6 items can be placed under the caps; the rest fills the page past them.
    capped = page[:6]
    assert max(np.unique([authors[i] for i in capped], return_counts=True)[1]) <= 2


def test_diversify_respects_caps_when_enough_variety():
    authors = [f"a{i // 3}" for i in range(90)]
    communities = [f"c{i // 6}" for i in range(90)]
    page = diversify(list(range(90)), 20, authors, communities)
    _, per_author = np.unique([authors[i] for i in page], return_counts=True)
    _, per_community = np.unique([communities[i] for i in page], return_counts=True)
    assert len(page) == 20 and per_author.max() <= 2 and per_community.max() <= 4


def test_model_pages_respect_caps_with_metadata():
    data = generate(n_users=200, n_items=300, n_interactions=5000, n_edges=1500, seed=4, communities=True)
    model = Recommender(Settings(seed=4)).fit(data.interactions, data.followers, data.followees, data.items)
    authors = dict(zip(data.items.item_ids, data.items.authors, strict=True))
    communities = dict(zip(data.items.item_ids, data.items.communities, strict=True))
    recs = model.recommend("u3", k=20)
    _, per_author = np.unique([authors[r.item_id] for r in recs], return_counts=True)
    _, per_community = np.unique([communities[r.item_id] for r in recs], return_counts=True)
    assert len(recs) == 20 and per_author.max() <= 2 and per_community.max() <= 4


def test_mmr_prefers_a_dissimilar_second_item():
    import scipy.sparse as sp

    vectors = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    assert mmr([0, 1, 2], [1.0, 0.95, 0.9], vectors, 2, trade_off=0.5) == [0, 2]


def test_training_is_deterministic_for_a_seed(synthetic):
    def top(seed):
        model = Recommender(Settings(seed=seed)).fit(
            synthetic.interactions, synthetic.followers, synthetic.followees, synthetic.items
        )
        return [(r.item_id, round(r.score, 5)) for r in model.recommend("u5", k=10)]

    assert top(11) == top(11)


def test_a_second_holdout_fold_gives_the_ranker_more_positives_until_it_has_enough(synthetic, trained):
    def positives(**settings):
        model = Recommender(Settings(seed=3, **settings)).fit(
            synthetic.interactions, synthetic.followers, synthetic.followees, synthetic.items
        )
        return model.ranker.positives

    one = positives(ranker_folds=1)
    assert trained.settings.ranker_folds == 2 and trained.ranker.positives > 1.5 * one
    assert positives(ranker_folds=2, enough_ranker_positives=one) == one


def test_training_reports_where_its_time_went(trained):
    phases = trained.info["phase_seconds"]
    assert {"tuning", "ease", "als", "user knn", "ranker examples", "ranker fit"} <= set(phases)
    assert all(wall >= 0 and cpu >= 0 for wall, cpu in phases.values())


def test_taste_neighbours_are_a_tuned_source_and_a_ranker_feature(trained):
    from recommender.ranker import FEATURES

    assert tuple(trained.chosen["user_knn"]) in trained.settings.user_knn
    assert [p[0] for p in trained.chosen["validation_ndcg20"]["user_knn"]] == [
        list(p) for p in trained.settings.user_knn
    ]
    assert {"neighbours", "neighbours_norm", "hop2"} <= set(FEATURES)
    X_row = trained.data.X[[trained.data.user_index["u1"]]]
    assert trained.sources.users.score(X_row, np.array([trained.data.user_index["u1"]])).max() > 0
