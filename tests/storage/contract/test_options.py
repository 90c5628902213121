"""Backend options of ``open_store``: typed, and an unknown name is refused instead of dropped."""

from __future__ import annotations

import pytest

from storage import InvalidInputError, open_store
from tests.storage.contract.conftest import EMBEDDING_DIMENSIONS, StoreFactory

pytestmark = pytest.mark.anyio

#: Options each backend accepts, and one that belongs to the other backend only.
ACCEPTED = {
    "sqlite": ("busy_timeout_seconds", "embedding_dimensions"),
    "postgres": ("min_size", "max_size", "schema", "embedding_dimensions"),
}
OTHER_BACKENDS_OPTION = {"sqlite": {"max_size": 2}, "postgres": {"busy_timeout_seconds": 5.0}}


async def test_a_misspelled_option_is_refused_with_its_name_and_the_accepted_ones(
    store_factory: StoreFactory,
) -> None:
    url = await store_factory.new_url()
    with pytest.raises(InvalidInputError) as caught:
        await open_store(url, embeding_dimensions=EMBEDDING_DIMENSIONS)
    message = str(caught.value)
    assert "'embeding_dimensions'" in message
    for name in ACCEPTED[store_factory.backend]:
        assert name in message


async def test_an_option_of_the_other_backend_is_refused(store_factory: StoreFactory) -> None:
    url = await store_factory.new_url()
    options = OTHER_BACKENDS_OPTION[store_factory.backend]
    with pytest.raises(InvalidInputError) as caught:
        await open_store(url, **options)
    assert repr(next(iter(options))) in str(caught.value)


@pytest.mark.parametrize("value", [0, -3, "eight"])
async def test_a_bad_option_value_is_refused(store_factory: StoreFactory, value: object) -> None:
    url = await store_factory.new_url()
    with pytest.raises(InvalidInputError, match="embedding_dimensions"):
        await open_store(url, embedding_dimensions=value)


async def test_the_accepted_options_open_the_store(store_factory: StoreFactory) -> None:
    url = await store_factory.new_url()
    options: dict[str, object] = {"embedding_dimensions": EMBEDDING_DIMENSIONS}
    if store_factory.backend == "sqlite":
        options["busy_timeout_seconds"] = 2.5
    else:
        options.update(min_size=1, max_size=2)
    store = await open_store(url, **options)
    try:
        described = await store.describe()
        assert described["embedding_dimensions"] == EMBEDDING_DIMENSIONS
        if store_factory.backend == "sqlite":
            assert described["busy_timeout_seconds"] == 2.5
        else:
            assert (described["pool_min_size"], described["pool_max_size"]) == (1, 2)
    finally:
        await store.close()
