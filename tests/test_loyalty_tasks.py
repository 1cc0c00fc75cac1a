"""Point tasks with proof: multipart submissions, duplicate pictures flagged by perceptual hash across customers,
the review queue, points awarded once on approval, rejections with a reason, per-customer limits."""

import io

from PIL import Image

from tests.helpers.customers import new_customer
from tests.helpers.images import screenshot


def _resaved(data: bytes) -> bytes:
    # The same screenshot scaled down and re-encoded as JPEG, as a phone would forward it.
    image = Image.open(io.BytesIO(data)).convert("RGB").resize((270, 480))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


def _submit(api, task_id: int, customer_id: int, image: bytes, note: str = "好评截图", name="proof.png"):
    return api.post(f"/v1/loyalty/tasks/{task_id}/submissions", data={"customer_id": str(customer_id), "note": note},
                    files={"image": (name, image, "application/octet-stream")})


def test_submission_review_and_duplicates(api, database, tenant, settings):
    task = api.post("/v1/loyalty/tasks", json={"name": "晒好评", "points": 50, "per_customer_limit": 2}).json()
    alice, bob = new_customer(database, tenant.actor), new_customer(database, tenant.actor)
    original = screenshot(1)
    first = _submit(api, task["id"], alice, original)
    assert first.status_code == 201, first.text
    assert first.json()["duplicate_of_id"] is None
    copy = _submit(api, task["id"], bob, _resaved(original), name="copy.jpg").json()
    assert copy["duplicate_of_id"] == first.json()["id"]  # the same picture from another customer is flagged
    fresh = _submit(api, task["id"], bob, screenshot(2)).json()
    assert fresh["duplicate_of_id"] is None
    assert _submit(api, task["id"], bob, screenshot(3)).status_code == 409  # limit of 2 per customer
    junk = _submit(api, task["id"], alice, b"not an image at all")
    assert junk.status_code == 422 and junk.json()["errors"][0]["field"] == "image"

    queue = api.get("/v1/loyalty/submissions").json()["items"]
    assert [s["id"] for s in queue] == [fresh["id"], copy["id"], first.json()["id"]]
    image = api.get(f"/v1/loyalty/submissions/{first.json()['id']}/image")
    assert image.status_code == 200 and image.content == original

    approve = {"approve": True}
    for _ in range(2):  # approving twice awards once
        assert api.post(f"/v1/loyalty/submissions/{first.json()['id']}/review", json=approve).status_code == 200
    assert api.get(f"/v1/loyalty/customers/{alice}/points").json()["balance"] == 50
    no_reason = api.post(f"/v1/loyalty/submissions/{copy['id']}/review", json={"approve": False})
    assert no_reason.status_code == 422
    rejected = api.post(f"/v1/loyalty/submissions/{copy['id']}/review",
                        json={"approve": False, "reason": "重复截图"}).json()
    assert (rejected["status"], rejected["reason"]) == ("rejected", "重复截图")
    flip = api.post(f"/v1/loyalty/submissions/{copy['id']}/review", json=approve)
    assert flip.status_code == 409
    assert api.get(f"/v1/loyalty/customers/{bob}/points").json()["balance"] == 0
    assert [s["id"] for s in api.get("/v1/loyalty/submissions").json()["items"]] == [fresh["id"]]


def test_erasing_a_customer_deletes_their_proof_images(api, database, tenant):
    task = api.post("/v1/loyalty/tasks", json={"name": "晒单", "points": 5}).json()
    customer = new_customer(database, tenant.actor)
    submission = _submit(api, task["id"], customer, screenshot(42)).json()
    assert api.post(f"/v1/customers/{customer}/erase").status_code in (200, 204)
    assert api.get(f"/v1/loyalty/submissions/{submission['id']}/image").status_code == 404


def test_another_workspace_cannot_submit_to_a_task_or_for_a_customer(api, client, database, tenant, other_tenant):
    task = api.post("/v1/loyalty/tasks", json={"name": "晒单", "points": 5}).json()
    customer = new_customer(database, tenant.actor)
    files = {"image": ("p.png", screenshot(9), "image/png")}
    foreign_task = client.post(f"/v1/loyalty/tasks/{task['id']}/submissions", headers=other_tenant.headers,
                               data={"customer_id": str(customer)}, files=files)
    assert foreign_task.status_code == 404 and foreign_task.json()["errors"][0]["field"] == "task_id"
    own = client.post("/v1/loyalty/tasks", headers=other_tenant.headers, json={"name": "x", "points": 1}).json()
    foreign_customer = client.post(f"/v1/loyalty/tasks/{own['id']}/submissions", headers=other_tenant.headers,
                                   data={"customer_id": str(customer)}, files=files)
    assert foreign_customer.status_code == 404 and foreign_customer.json()["errors"][0]["field"] == "customer_id"
