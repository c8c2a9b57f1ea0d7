"""Encoding: categorical coding, formulas, bad input, and the same design at predict time."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from degenet.data.coding import contrast_matrix
from degenet.data.encoding import Encoding, encode
from degenet.errors import DataWarning, DegenetError


@pytest.fixture
def people() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 60
    return pd.DataFrame({
        "age": rng.uniform(20, 70, n).round(1),
        "children": rng.integers(0, 4, n),
        "relationship": rng.choice(["single", "partnered"], n),
        "city": rng.choice(["Oslo", "Bergen", "Tromsø"], n),
        "owner": rng.choice([True, False], n),
        "color": rng.choice(["red", "green"], n),
    })


def roundtrip(encoding: Encoding) -> Encoding:
    return Encoding.from_dict(json.loads(json.dumps(encoding.to_dict())))


# --- categorical coding --------------------------------------------------------------------

def test_treatment_coding_names_levels_against_the_sorted_first(people):
    encoding, X, y = encode(people, "color")
    assert encoding.terms == ("age", "children", "relationship[single]", "city[Oslo]",
                              "city[Tromsø]", "owner[True]")
    assert encoding.references == {"relationship": "partnered", "city": "Bergen",
                                   "owner": False}
    assert "reference level 'Bergen'" in encoding.describe()[1]
    np.testing.assert_array_equal(X[:, 2], (people.relationship == "single").astype(float))
    np.testing.assert_array_equal(X[:, 4], (people.city == "Tromsø").astype(float))
    np.testing.assert_array_equal(X[:, 5], people.owner.astype(float))
    np.testing.assert_array_equal(X[:, 0], people.age)
    assert y.tolist() == people.color.tolist()


def test_treatment_design_equals_statsmodels(people):
    smf = pytest.importorskip("statsmodels.formula.api")
    encoding, X, _ = encode(people, "age", features=["children", "relationship", "city"])
    model = smf.ols("age ~ children + C(relationship) + C(city)", people)
    names = {"children": "children", "relationship[single]": "C(relationship)[T.single]",
             "city[Oslo]": "C(city)[T.Oslo]", "city[Tromsø]": "C(city)[T.Tromsø]"}
    columns = [model.exog_names.index(names[term]) for term in encoding.terms]
    np.testing.assert_array_equal(X, model.exog[:, columns])


def test_effect_coding_is_the_posts_half_units(people):
    encoding, X, _ = encode(people, "color", features=["relationship"], coding="effect")
    assert encoding.terms == ("relationship[single]",)
    expected = np.where(people.relationship == "single", 0.5, -0.5)
    np.testing.assert_array_equal(X[:, 0], expected)


@pytest.mark.parametrize("coding", ["treatment", "effect", "sum"])
def test_codings_have_their_textbook_meaning(coding):
    # Least squares on one categorical predictor reproduces the group means exactly:
    # treatment/effect coefficients are differences from the reference level, sum
    # coefficients are deviations from the mean of the level means.
    levels = np.array(["a", "b", "c"])
    g = np.repeat(levels, [3, 5, 4])
    y = np.arange(len(g), dtype=float) ** 1.5
    frame = pd.DataFrame({"g": g, "y": y})
    _, X, _ = encode(frame, "y", coding=coding)
    A = np.column_stack([X, np.ones(len(y))])
    beta = np.linalg.lstsq(A, y, rcond=None)[0]
    means = np.array([y[g == level].mean() for level in levels])
    if coding == "sum":
        np.testing.assert_allclose(beta[:2], means[1:] - means.mean(), atol=1e-12)
        np.testing.assert_allclose(beta[2], means.mean())
    else:
        np.testing.assert_allclose(beta[:2], means[1:] - means[0], atol=1e-12)
        intercept = means[0] if coding == "treatment" else means.mean()
        np.testing.assert_allclose(beta[2], intercept)
    assert np.allclose(contrast_matrix(3, coding).sum(axis=0), 0) == (coding != "treatment")


def test_pandas_categorical_keeps_its_declared_order(people):
    frame = people.assign(city=pd.Categorical(people.city, ["Tromsø", "Oslo", "Bergen", "Rome"]))
    encoding, _, _ = encode(frame, "color", features=["city"])
    assert encoding.terms == ("city[Oslo]", "city[Bergen]")  # unused 'Rome' is dropped


# --- formulas ------------------------------------------------------------------------------

FORMULA = ("color ~ children + age + C(relationship) + children:age + np.log(age) + "
           "I(age**2) + city")


def test_formula_design_equals_statsmodels(people):
    patsy = pytest.importorskip("patsy")  # statsmodels' formula engine
    encoding, X, y = encode(people, formula=FORMULA)
    assert encoding.target == "color" and y.name == "color"
    assert encoding.terms == ("children", "age", "relationship[single]", "np.log(age)",
                              "I(age ** 2)", "city[Oslo]", "city[Tromsø]", "children:age")
    reference = patsy.dmatrix(FORMULA.split("~")[1], people, return_type="dataframe")
    names = {"relationship[single]": "C(relationship)[T.single]", "city[Oslo]": "city[T.Oslo]",
             "city[Tromsø]": "city[T.Tromsø]", "I(age ** 2)": "I(age ** 2)"}
    for j, term in enumerate(encoding.terms):
        expected = reference[names.get(term, term)].to_numpy()
        np.testing.assert_allclose(X[:, j], expected, rtol=1e-12, err_msg=term)
    assert X.shape[1] == reference.shape[1] - 1  # all but patsy's Intercept


def test_formula_without_intercept_and_target_argument(people):
    encoding, X, _ = encode(people, "age", formula="~ 0 + relationship + children")
    assert not encoding.intercept
    assert encoding.terms == ("relationship[partnered]", "relationship[single]", "children")


@pytest.mark.filterwarnings("ignore::degenet.errors.DataWarning")  # unused columns
def test_formula_with_sum_contrast_and_stateful_transforms_round_trip(people):
    formula = "age ~ C(city, contr.sum) + center(children) + poly(age, 2)"
    with pytest.raises(DegenetError, match="target column 'age' is also used"):
        encode(people, formula=formula)
    formula = "age ~ C(city, contr.sum) + center(children) + poly(children, 2) + owner"
    encoding, X, _ = encode(people, formula=formula)
    assert encoding.terms[:2] == ("city[Bergen]", "city[Oslo]")
    assert encoding.describe() == [
        "C(city, contr.sum): sum coding, last level 'Tromsø' omitted (levels: 'Bergen', 'Oslo',"
        " 'Tromsø')",
        "owner: treatment coding, reference level False (levels: False, True)"]
    loaded = roundtrip(encoding)
    assert loaded == encoding
    shuffled = people.sample(frac=1.0, random_state=1)
    rows = people.index.get_indexer(shuffled.index)
    np.testing.assert_array_equal(loaded.transform(shuffled), X[rows])
    np.testing.assert_array_equal(loaded.transform(people.head(3)), X[:3])


def test_features_encoding_round_trip_is_exact(people):
    encoding, X, _ = encode(people, "color", coding="effect")
    loaded = roundtrip(encoding)
    assert loaded == encoding and loaded.coding == "effect"
    np.testing.assert_array_equal(loaded.transform(people), X)
    np.testing.assert_array_equal(loaded.transform(people.iloc[::-1]), X[::-1])


@pytest.mark.parametrize("formula, message", [
    ("color ~ agee + children", "uses 'agee', which the table does not have"),
    ('color ~ {__import__("os").getcwd()}', "__import__.*formulas may use columns"),
    ("color ~ eval(age)", "uses 'eval', which the table does not have"),
    ("color ~ age.__class__", "uses the attribute 'age.__class__'"),
    ("color ~ np.load(age)", "uses the attribute 'np.load'"),
    ("np.log(age) ~ children", "left-hand side .* must be one column name"),
    ("color ~ age +", "cannot parse formula"),
    ("~ age", "has no target"),
])
def test_formula_errors(people, formula, message):
    with pytest.raises(DegenetError, match=message):
        encode(people, formula=formula)


def test_formula_columns_with_spaces_in_backticks_round_trip():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"mean radius": rng.uniform(1, 2, 40), "z": rng.normal(size=40),
                          "g": rng.choice(["a", "b"], 40), "y": rng.normal(size=40)})
    formula = "y ~ `mean radius`:z + np.log(`mean radius`) + cr(`mean radius`, df=4) + g"
    encoding, X, _ = encode(frame, formula=formula)
    assert "mean radius:z" in encoding.terms and "np.log(`mean radius`)" in encoding.terms
    np.testing.assert_array_equal(roundtrip(encoding).transform(frame), X)
    np.testing.assert_allclose(X[:, encoding.terms.index("mean radius:z")],
                               frame["mean radius"] * frame["z"])
    with pytest.raises(DegenetError, match="uses the attribute"):
        encode(frame, formula="y ~ np.log(`mean radius`.__class__)")
    with pytest.raises(DegenetError, match="uses 'nope', which the table does not have"):
        encode(frame, formula="y ~ np.log(`nope`)")


def test_formula_argument_errors(people):
    with pytest.raises(DegenetError, match="target='age' differs from the formula's target"):
        encode(people, "age", formula="color ~ children")
    with pytest.raises(DegenetError, match="features=.* or formula=.*, not both"):
        encode(people, formula="color ~ age", features=["age"])
    with pytest.raises(DegenetError, match="coding='effect' applies to features"):
        encode(people, formula="color ~ age", coding="effect")
    with pytest.raises(DegenetError, match="coding must be one of treatment, effect, sum"):
        encode(people, "color", coding="helmert")


def test_a_tampered_model_file_formula_is_refused(people):
    encoding, _, _ = encode(people, formula="color ~ age + children")
    saved = encoding.to_dict()
    saved["formula"] = 'color ~ age + {__import__("os").getcwd()}'
    with pytest.raises(DegenetError, match="__import__.*formulas may use columns"):
        Encoding.from_dict(saved)


def test_formula_transform_that_is_not_finite_is_named(people):
    frame = people.assign(children=people.children.astype(float))
    with pytest.raises(DegenetError, match=r"term 'np.log\(children\)' is not finite .* row"):
        encode(frame, formula="age ~ np.log(children)")


# --- bad input -----------------------------------------------------------------------------

def test_missing_values_are_an_error_naming_each_column(people):
    frame = people.astype({"age": float}).copy()
    frame.loc[[1, 4, 7], "age"] = np.nan
    frame.loc[[4, 9], "city"] = None
    with pytest.raises(DegenetError, match=r"missing values in 2 column\(s\): 'age' \(3 rows\), "
                                           r"'city' \(2 rows\); 4 of 60 rows"):
        encode(frame, "color")
    with pytest.warns(DataWarning, match="dropped 4 of 60 rows with missing values "
                                         r"\(age: 3, city: 2\); 56 rows remain"):
        encoding, X, y = encode(frame, "color", missing="drop")
    assert encoding.dropped_rows == 4 and encoding.missing == "drop"
    assert X.shape == (56, 6) and len(y) == 56 and 4 not in y.index
    assert frame.age.isna().sum() == 3  # the caller's frame is untouched
    with pytest.raises(DegenetError, match="missing must be 'error' or 'drop'; received"):
        encode(frame, "color", missing="fill")


def test_infinite_values(people):
    frame = people.astype({"age": float})
    frame.loc[5, "age"] = np.inf
    with pytest.raises(DegenetError, match=r"column 'age' holds 1 infinite value\(s\) \(first in "
                                           "row 5\\)"):
        encode(frame, "color")


def test_infinite_target(people):
    frame = people.astype({"age": float})
    frame.loc[7, "age"] = -np.inf
    with pytest.raises(DegenetError, match=r"target column 'age' holds 1 infinite value\(s\) "
                                           r"\(first in row 7\)"):
        encode(frame, "age")


def test_constant_target_and_single_class(people):
    with pytest.raises(DegenetError, match="target column 'one' has a single value 3.0"):
        encode(people.assign(one=3.0), "one")
    with pytest.raises(DegenetError, match="target column 'color' has a single value 'red'"):
        encode(people.assign(color="red"), "color")


def test_constant_predictor_is_named_and_left_out(people):
    with pytest.warns(DataWarning, match=r"column\(s\) 'planet' constant .* left out"):
        encoding, X, _ = encode(people.assign(planet="earth"), "color")
    assert "planet" not in encoding.columns and encoding.excluded == ("planet",)
    assert X.shape[1] == 6
    with pytest.raises(DegenetError, match="no usable predictors"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            encode(people.assign(one=1.0), "color", features=["one"])


def test_target_column_not_found(people):
    with pytest.raises(DegenetError, match="target column 'colour' not found; columns are: "
                                           "age, children"):
        encode(people, "colour")
    with pytest.raises(DegenetError, match=r"feature column\(s\) 'kids' not found"):
        encode(people, "color", features=["kids"])


def test_numeric_column_with_stray_text_names_the_value(tmp_path):
    frame = pd.DataFrame({"x": ["12", "n/a", "13", "14"], "y": [1.0, 2.0, 3.5, 4.0]})
    with pytest.raises(DegenetError, match=r"column 'x' holds numbers and 1 text value\(s\) "
                                           r"such as 'n/a' \(row 1\)"):
        encode(frame, "y")
    path = tmp_path / "stray.csv"
    path.write_text("x,y\n12,1\ntwelve,2\n13,3\n14,4\n")
    with pytest.raises(DegenetError, match="column 'x' .* such as 'twelve' \\(row 1\\)"):
        encode(pd.read_csv(path), "y")
    encoding, X, _ = encode(frame.assign(x=["12", "11", "13", "14"]), "y")
    assert encoding.schema[0].kind == "numeric" and X[:, 0].tolist() == [12, 11, 13, 14]


def test_empty_table_and_unsupported_dtype():
    with pytest.raises(DegenetError, match="the table has no rows"):
        encode(pd.DataFrame({"x": [], "y": []}), "y")
    when = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=4), "y": [1.0, 2, 3, 5]})
    with pytest.raises(DegenetError, match="column 't' has dtype datetime64"):
        encode(when, "y")


# --- predict time --------------------------------------------------------------------------

@pytest.fixture
def fitted(people):
    return encode(people, "color")[0]


def test_predict_time_missing_and_extra_columns(people, fitted):
    with pytest.raises(DegenetError, match=r"column\(s\) 'city' missing from the data"):
        fitted.transform(people.drop(columns="city"))
    with pytest.warns(DataWarning, match="ignoring column.*'shoe_size'"):
        fitted.transform(people.assign(shoe_size=42))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the target column alone is no surprise
        fitted.transform(people)


def test_predict_time_unseen_level(people, fitted):
    frame = people.copy()
    frame.loc[2, "city"] = "Bodø"
    with pytest.raises(DegenetError, match="column 'city' has level.*'Bodø' not seen when the "
                                           "model was fitted .*row 2.*known levels: 'Bergen'"):
        fitted.transform(frame)


def test_predict_time_type_changes(people, fitted):
    with pytest.raises(DegenetError, match="column 'age' held numbers when the model was "
                                           "fitted; received text"):
        fitted.transform(people.assign(age="old"))
    with pytest.raises(DegenetError, match="column 'relationship' held text when the model was "
                                           "fitted; received numbers"):
        fitted.transform(people.assign(relationship=1))
    with pytest.raises(DegenetError, match="column 'owner' held booleans .* received text"):
        fitted.transform(people.assign(owner="yes"))


def test_predict_time_missing_values(people, fitted):
    frame = people.astype({"age": float})
    frame.loc[3, "age"] = np.nan
    with pytest.raises(DegenetError, match=r"missing values in 'age' \(1 row\); the model "
                                           "cannot predict incomplete rows"):
        fitted.transform(frame)


def test_formula_level_of_a_numeric_column_unseen_at_predict_time(people):
    encoding, _, _ = encode(people, formula="age ~ C(children) + city")
    assert encoding.terms[:3] == ("children[1.0]", "children[2.0]", "children[3.0]")
    with pytest.raises(DegenetError, match=r"formula term meets a level not seen in fitting.*7"):
        encoding.transform(people[["children", "city"]].assign(children=7))


def test_decimal_commas_and_saved_row_index(tmp_path, people):
    frame = pd.DataFrame({"x": ["1,5", "2,25", "-0,5"], "y": [1.0, 2.0, 4.0]})
    with pytest.raises(DegenetError, match="column 'x' holds numbers written with decimal "
                                           "commas \\(e.g. '1,5'\\)"):
        encode(frame, "y")
    path = tmp_path / "indexed.csv"
    people.to_csv(path)  # pandas writes its index as a first, unnamed column
    with pytest.warns(DataWarning, match="column 'Unnamed: 0' is a saved row index"):
        encoding, _, _ = encode(pd.read_csv(path), "color")
    assert "Unnamed: 0" not in encoding.columns


@pytest.mark.filterwarnings("ignore::degenet.errors.DataWarning")
def test_the_callers_frame_is_never_changed(people):
    frame = people.astype({"age": float})
    frame.loc[2, "age"] = np.nan
    before = frame.copy()
    encoding, _, _ = encode(frame, formula="color ~ age + C(city) + owner", missing="drop")
    encoding.transform(frame.dropna())
    pd.testing.assert_frame_equal(frame, before)


def test_nullable_and_arrow_dtypes_round_trip():
    frame = pd.DataFrame({
        "n": pd.array([1, 2, None, 4, 5, 6], dtype="Int64"),
        "b": pd.array([True, False, True, None, False, True], dtype="boolean"),
        "s": pd.array(["a", "b", "a", "b", None, "a"], dtype="string[pyarrow]"),
        "c": pd.Categorical([1, 2, 1, 2, 1, 2]),
        "y": ["1", "2", "3.5", "4", "5", "6"]})  # numbers as text: a numeric target
    with pytest.warns(DataWarning, match="dropped 3 of 6 rows"):
        encoding, X, y = encode(frame, "y", missing="drop")
    assert encoding.terms == ("n", "b[True]", "s[b]", "c[2]")
    assert y.dtype == np.float64 and y.tolist() == [1.0, 2.0, 6.0]
    np.testing.assert_array_equal(X, [[1, 1, 0, 0], [2, 0, 1, 1], [6, 1, 0, 1]])
    np.testing.assert_array_equal(roundtrip(encoding).transform(frame.dropna()), X)


def test_identifier_like_text_column_is_refused_unless_allowed():
    frame = pd.DataFrame({"name": [f"person {i}" for i in range(30)],
                          "y": np.arange(30.0) % 7})
    with pytest.raises(DegenetError, match="column 'name' has 30 distinct text values in 30 "
                                           "rows: it looks like an identifier"):
        encode(frame, "y")
    encoding, X, _ = encode(frame, "y", allow_high_cardinality=True)
    assert X.shape == (30, 29) and encoding.terms[0] == "name[person 1]"


def test_duplicate_index_labels_keep_one_row_each(people):
    frame = people.set_index(np.zeros(len(people), dtype=int)).astype({"age": float})
    frame.iloc[3, 0] = np.nan
    with pytest.warns(DataWarning, match="dropped 1 of 60 rows"):
        _, X, y = encode(frame, "color", missing="drop")
    assert X.shape[0] == len(y) == 59


def test_a_malformed_encoding_is_refused():
    with pytest.raises(DegenetError, match="not a valid degenet encoding"):
        Encoding.from_dict({"target": "y", "terms": ["x"]})
    with pytest.raises(DegenetError, match="not a degenet encoding"):
        Encoding.from_dict(["y"])
