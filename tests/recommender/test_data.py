import numpy as np
import pytest

from recommender.data import InputError, build_training_data, read_interactions, read_items, read_social


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("user_id,item_id,weight,timestamp\n", "no rows"),
        ("user,item\nu1,i1\n", "lacks column(s) user_id, item_id"),
        ("user_id,item_id,weight\nu1,i1,lots\n", "weight 'lots' is not a number"),
        ("user_id,item_id,weight,timestamp\nu1,i1,1,yesterday\n", "timestamp 'yesterday' is not a number"),
        ("user_id,item_id,weight\nu1,i1,-2\n", "negative"),
        ("user_id,item_id\nu1,\n", "must not be empty"),
    ],
)
def test_bad_interaction_files_raise_one_line_errors(tmp_path, text, message):
    with pytest.raises(InputError, match=None) as error:
        read_interactions(write(tmp_path, "interactions.csv", text))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_interactions(tmp_path / "nope.csv")


def test_weight_and_timestamp_may_be_empty(tmp_path):
    rows = read_interactions(
        write(tmp_path, "i.csv", "item_id,user_id,weight,timestamp\ni1,u1,,\ni2,u1,3,17\n")
    )
    assert rows.weights.tolist() == [1.0, 3.0]
    assert np.isnan(rows.timestamps[0]) and rows.timestamps[1] == 17


def test_social_drops_self_follows_and_duplicates(tmp_path):
    followers, followees = read_social(
        write(tmp_path, "s.csv", "follower_id,followee_id\na,b\na,a\na,b\nb,a\n")
    )
    assert list(zip(followers, followees, strict=True)) == [("a", "b"), ("b", "a")]
    with pytest.raises(InputError, match="lacks column"):
        read_social(write(tmp_path, "bad.csv", "from,to\na,b\n"))


def test_items_parse_tags_and_optional_columns(tmp_path):
    meta = read_items(
        write(tmp_path, "items.csv", "item_id,title,tags,community\ni1,One,rock| pop ,Music\ni2,,,\n")
    )
    assert meta.tags == [["rock", "pop"], []]
    assert meta.communities == ["Music", ""]
    assert meta.authors == ["", ""]


def test_people_only_in_the_social_file_are_indexed_without_interactions(tmp_path):
    rows = read_interactions(write(tmp_path, "i.csv", "user_id,item_id\nu1,i1\nu1,i1\nu2,i2\n"))
    data = build_training_data(
        rows, np.array(["u1", "ghost"], dtype=object), np.array(["ghost", "u2"], dtype=object)
    )
    assert data.n_active == 2 and data.n_users == 3
    assert data.X[data.user_index["u1"], data.item_index["i1"]] == 2.0
    assert data.X[data.user_index["ghost"]].nnz == 0
    assert data.follows.nnz == 2


@pytest.mark.parametrize(
    ("reader", "text", "message"),
    [
        (read_interactions, "user_id,item_id,wieght\nu1,i1,3\n", "unknown column(s) wieght"),
        (read_interactions, "user_id,item_id,weight,weight\nu1,i1,3,4\n", "repeated column(s) weight"),
        (read_social, "follower_id,followee_id,since\na,b,2020\n", "unknown column(s) since"),
        (read_items, "item_id,title,genre\ni1,One,rock\n", "unknown column(s) genre"),
    ],
)
def test_unknown_or_repeated_columns_are_refused_by_name(tmp_path, reader, text, message):
    with pytest.raises(InputError) as error:
        reader(write(tmp_path, "f.csv", text))
    assert message in str(error.value) and "expected columns" in str(error.value)
