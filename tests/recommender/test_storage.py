import json

import pytest

from recommender.storage import FORMAT_VERSION, ModelFormatError, load, save


def test_round_trip_gives_the_same_recommendations(trained, tmp_path):
    save(trained, tmp_path / "model", metrics={"ndcg@20": 0.5})
    loaded = load(tmp_path / "model")
    als = loaded.sources.als  # several ALS starts come back as several blocks, each folded in on its own
    assert trained.settings.als_starts > 1 and len(als._blocks()) == trained.settings.als_starts
    for user in ("u1", "u7", "nobody"):
        before = [(r.item_id, round(r.score, 4), r.reason) for r in trained.recommend(user, k=10)]
        after = [(r.item_id, round(r.score, 4), r.reason) for r in loaded.recommend(user, k=10)]
        assert before == after
    meta = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION and meta["info"]["items"] == trained.data.n_items
    assert meta["metrics"] == {"ndcg@20": 0.5}


def test_an_older_format_version_is_refused_clearly(trained, tmp_path):
    save(trained, tmp_path / "model")
    path = tmp_path / "model" / "metadata.json"
    meta = json.loads(path.read_text())
    meta["format_version"] = FORMAT_VERSION - 1
    path.write_text(json.dumps(meta))
    with pytest.raises(ModelFormatError, match=f"format version {FORMAT_VERSION - 1}"):
        load(tmp_path / "model")


def test_a_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(ModelFormatError, match="no metadata.json"):
        load(tmp_path)


def test_a_newer_or_damaged_model_is_refused_clearly(trained, tmp_path):
    save(trained, tmp_path / "model")
    path = tmp_path / "model" / "metadata.json"
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(ModelFormatError, match=f"format version {FORMAT_VERSION + 1}"):
        load(tmp_path / "model")
    path.write_text(json.dumps(meta))
    (tmp_path / "model" / "arrays.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelFormatError, match="cannot be read"):
        load(tmp_path / "model")


def test_rank_weighted_sources_round_trip(synthetic, tmp_path):
    from recommender.model import Recommender, Settings

    settings = Settings(seed=4, ease=((0.2, 60.0, "rank"),))
    model = Recommender(settings).fit(synthetic.interactions, synthetic.followers, synthetic.followees)
    assert model.chosen["ease"][2] == "rank"
    loaded = load(save(model, tmp_path / "model"))
    before = [(r.item_id, round(r.score, 4)) for r in model.recommend("u3", k=10)]
    assert before == [(r.item_id, round(r.score, 4)) for r in loaded.recommend("u3", k=10)]
