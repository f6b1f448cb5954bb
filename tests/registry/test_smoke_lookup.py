from tests.registry.helpers import subject, submit


def test_two_severe_overdue_make_black_through_the_api(member, other_member, key_client):
    h = subject(1)
    submit(member, h)
    submit(other_member, h)
    response = key_client(member, scopes=["lookup"]).get(f"/api/v1/lookups/RIC/{h}?purpose=UNDERWRITING")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "BLACK"
    assert body["black_score"] == 84
    assert body["reasons"] == {"SEVERE_OVERDUE": 2}
    assert body["own_entry"]["list"] == "BLACK"


def test_batch(member, other_member, key_client):
    h = subject(1)
    submit(member, h)
    client = key_client(member, scopes=["lookup"])
    response = client.post(
        "/api/v1/lookups/batch",
        {
            "purpose": "UNDERWRITING",
            "subjects": [{"id_type": "RIC", "subject_hash": h}, {"id_type": "RIC", "subject_hash": subject(2)}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["WATCH", "CLEAR"]
