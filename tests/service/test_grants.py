"""Grants: signed by the service, verified offline, and refused with a reason for every kind of tampering."""

import datetime as dt
import threading

import pytest

from fanremix.domain import policy_templates
from fanremix.domain.recipe import Recipe
from fanremix.rights.grants import (
    ExpiredGrantError,
    ForgedGrantError,
    Grant,
    GrantKeySet,
    GrantMismatchError,
    GrantSigner,
    MalformedGrantError,
    UnknownGrantKeyError,
    verify_grant,
)

RECIPE = Recipe.for_stems("song", "ab" * 32, ["drums", "bass"])
NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


def issue(signer: GrantSigner, recipe: Recipe = RECIPE, **kwargs) -> dict:
    grant = Grant.for_recipe(
        fan_id="acc_1", fan_name="Ada", recipe=recipe, policy=policy_templates.demo(), pack_hash="ab" * 32, now=NOW,
        **kwargs,
    )  # fmt: skip
    return signer.sign(grant)


def test_a_genuine_grant_verifies_with_the_published_keys() -> None:
    signer = GrantSigner.generate()
    document = issue(signer)
    keys = GrantKeySet.from_published({"grant_keys": signer.key_set().to_published()})
    grant = verify_grant(document, keys, now=NOW, fan_id="acc_1", recipe_hash=RECIPE.recipe_hash(), pack_id="song")
    assert grant.recipe_hash == RECIPE.recipe_hash() and grant.attribution == policy_templates.demo().attribution
    assert grant.to_dict() == {k: v for k, v in document.items() if k != "signature"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("recipe_hash", "00" * 32), ("expires_at", "2099-01-01T00:00:00Z"), ("fan", {"id": "acc_2", "name": "Eve"})],
)
def test_any_edit_breaks_the_signature(field, value) -> None:
    signer = GrantSigner.generate()
    document = issue(signer)
    document[field] = value
    with pytest.raises(ForgedGrantError, match="altered"):
        verify_grant(document, signer.key_set(), now=NOW)


def test_a_grant_signed_by_another_key_or_unsigned_is_refused() -> None:
    service, impostor = GrantSigner.generate(), GrantSigner.generate()
    with pytest.raises(UnknownGrantKeyError, match="not issued by this service"):
        verify_grant(issue(impostor), service.key_set(), now=NOW)
    unsigned = issue(service)
    del unsigned["signature"]
    with pytest.raises(ForgedGrantError, match="no signature"):
        verify_grant(unsigned, service.key_set(), now=NOW)
    with pytest.raises(MalformedGrantError):
        verify_grant(["not", "a", "grant"], service.key_set(), now=NOW)


def test_expiry_and_binding_to_fan_pack_and_recipe() -> None:
    signer = GrantSigner.generate()
    document = issue(signer, lifetime=dt.timedelta(hours=1))
    with pytest.raises(ExpiredGrantError, match="expired"):
        verify_grant(document, signer.key_set(), now=NOW + dt.timedelta(hours=2))
    for kwargs, code in (
        ({"fan_id": "acc_2"}, "grant.wrong_fan"),
        ({"pack_id": "other"}, "grant.wrong_pack"),
        ({"pack_hash": "cd" * 32}, "grant.wrong_pack"),
        ({"recipe_hash": RECIPE.with_stem("bass", gain_db=-1).recipe_hash()}, "grant.wrong_recipe"),
    ):
        with pytest.raises(GrantMismatchError) as refused:
            verify_grant(document, signer.key_set(), now=NOW, **kwargs)
        assert refused.value.code == code


def test_workers_starting_together_share_one_signing_key(tmp_path) -> None:
    path = tmp_path / "keys" / "grant.pem"
    signers: list[GrantSigner] = []
    threads = [threading.Thread(target=lambda: signers.append(GrantSigner.load_or_create(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({signer.key_id for signer in signers}) == 1
    assert path.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in path.parent.iterdir()) == ["grant.pem", "grant.pem.pub"]


@pytest.mark.parametrize("percent", [float("nan"), float("inf")])
def test_a_revenue_share_that_is_not_a_finite_number_is_refused(percent) -> None:
    """JSON readers accept NaN and Infinity; a grant carrying one as a share of the revenue is malformed."""
    document = issue(GrantSigner.generate())
    assert document["duties"]["revenue_split"], "the demo policy has a revenue split"
    document["duties"]["revenue_split"][0]["percent"] = percent
    with pytest.raises(MalformedGrantError, match="finite number"):
        Grant.from_dict(document)
