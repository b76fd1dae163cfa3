"""The template store on the local folder and on S3 over HTTP: saves, backups, the index."""

import io
import json

import pytest
from PIL import Image

from promostack.errors import InvalidInput
from promostack.storage import LocalStore, build_store
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import InvalidTemplate, TemplateNotFound, TemplateStore, parse_meta


def png(width: int, height: int, color: str = "#204080") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def meta(slug: str = "black-friday", *, name: str = "Black Friday", width: int = 400, height: int = 200, **extra) -> TemplateMeta:
    return TemplateMeta(
        slug=slug,
        name=name,
        image_key=f"templates/{slug}/background.png",
        width=width,
        height=height,
        text_areas=[{"id": "code", "source": "coupon", "box": {"x": 10, "y": 10, "w": 300, "h": 80}}],
        **extra,
    )


@pytest.fixture(params=["local", "s3"])
def templates(request, tmp_path) -> TemplateStore:
    if request.param == "local":
        return TemplateStore(LocalStore(tmp_path / "store"))
    return TemplateStore(build_store(request.getfixturevalue("s3_settings")))


def test_saved_template_reads_back_with_its_image_and_appears_in_the_index(templates) -> None:
    saved = templates.save(meta(), png(400, 200))
    assert saved.version == 1
    assert templates.get("black-friday") == saved
    assert Image.open(io.BytesIO(templates.image("black-friday"))).size == (400, 200)
    assert [t.slug for t in templates.index().templates] == ["black-friday"]


def test_saving_again_bumps_the_version_and_backs_up_the_old_meta(templates) -> None:
    first = templates.save(meta(), png(400, 200))
    second = templates.save(meta(name="Black Friday 2"))
    assert second.version == 2 and second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    backups = templates.backups("black-friday")
    assert len(backups) == 1 and backups[0].startswith("templates/black-friday/backups/meta-")
    assert json.loads(templates.store.get(backups[0]))["name"] == "Black Friday"
    assert templates.index().templates[0].name == "Black Friday 2"


def test_replaced_image_is_served_after_save(templates) -> None:
    templates.save(meta(), png(400, 200, "#ff0000"))
    templates.image("black-friday")  # cached now
    templates.save(meta(), png(400, 200, "#00ff00"))
    picture = Image.open(io.BytesIO(templates.image("black-friday"))).convert("RGB")
    assert picture.getpixel((0, 0)) == (0, 255, 0)


def test_image_of_the_wrong_size_is_refused_and_nothing_is_stored(templates) -> None:
    with pytest.raises(InvalidTemplate, match="300x200 but width/height say 400x200"):
        templates.save(meta(), png(300, 200))
    assert not templates.exists("black-friday")
    assert templates.store.list("templates/") == []


def test_bytes_that_are_not_an_image_are_refused(templates) -> None:
    with pytest.raises(InvalidInput):
        templates.save(meta(), b"not an image at all")
    assert not templates.exists("black-friday")


def test_new_template_without_an_image_is_refused(templates) -> None:
    with pytest.raises(InvalidTemplate, match="image_key: no image stored"):
        templates.save(meta())


def test_image_key_outside_the_template_folder_is_refused(templates) -> None:
    bad = meta().model_copy(update={"image_key": "templates/other/background.png"})
    with pytest.raises(InvalidTemplate, match="image_key: must be templates/black-friday/"):
        templates.save(bad, png(400, 200))


def test_image_key_with_unsafe_characters_is_refused_as_bad_input(templates) -> None:
    bad = meta().model_copy(update={"image_key": "templates/black-friday/back ground.png"})
    with pytest.raises(InvalidTemplate, match="image_key"):
        templates.save(bad, png(400, 200))


def test_meta_whose_slug_disagrees_with_its_folder_is_refused(templates) -> None:
    templates.store.put("templates/summer/meta.json", meta("winter").model_dump_json().encode())
    with pytest.raises(InvalidTemplate, match="slug: templates/summer/meta.json says its slug is 'winter'"):
        templates.get("summer")


def test_invalid_meta_json_names_the_field() -> None:
    document = meta().model_dump(mode="json")
    document["text_areas"][0]["box"]["w"] = 0
    with pytest.raises(InvalidTemplate, match=r"text_areas\.0\.box\.w"):
        parse_meta(json.dumps(document))


def test_meta_box_outside_the_image_is_refused_with_the_box_named(templates) -> None:
    document = meta().model_dump(mode="json")
    document["width"] = 100
    with pytest.raises(InvalidTemplate, match=r"text_areas\[0\]\.box .* reaches outside"):
        parse_meta(document)


@pytest.mark.parametrize("slug", ["../etc", "Black", "a/b", ""])
def test_slug_traversal_and_bad_slugs_are_refused(templates, slug) -> None:
    with pytest.raises(InvalidTemplate, match="slug"):
        templates.get(slug)


def test_unknown_template_names_the_slug(templates) -> None:
    with pytest.raises(TemplateNotFound, match="'nope'") as caught:
        templates.get("nope")
    assert caught.value.slug == "nope"


def test_delete_removes_the_template_and_its_image_but_keeps_backups(templates) -> None:
    templates.save(meta(), png(400, 200))
    templates.save(meta("summer", name="Summer"), png(400, 200))
    templates.delete("black-friday")
    assert not templates.exists("black-friday")
    assert not templates.store.exists("templates/black-friday/background.png")
    assert len(templates.backups("black-friday")) == 1
    assert [t.slug for t in templates.index().templates] == ["summer"]
    with pytest.raises(TemplateNotFound):
        templates.delete("black-friday")


def test_rebuild_index_skips_a_broken_meta_and_keeps_the_rest(templates) -> None:
    templates.save(meta(), png(400, 200))
    templates.store.put("templates/broken/meta.json", b'{"slug": "broken"}')
    index = templates.rebuild_index()
    assert [t.slug for t in index.templates] == ["black-friday"]
    _good, broken = templates.scan()
    assert "name" in broken["broken"]


def test_visible_lists_only_templates_shown_on_that_channel(templates) -> None:
    templates.save(meta("web-only", name="Web only", visibility={"web": True, "telegram": False}), png(400, 200))
    templates.save(meta("both", name="Both"), png(400, 200))
    assert [t.slug for t in templates.visible("web")] == ["both", "web-only"]
    assert [t.slug for t in templates.visible("telegram")] == ["both"]


def test_delete_leaves_a_marker_with_its_time_until_the_slug_is_saved_again(templates) -> None:
    templates.save(meta(), png(400, 200))
    templates.delete("black-friday")
    assert list(templates.deletions()) == ["black-friday"]
    templates.save(meta(), png(400, 200))
    assert templates.deletions() == {} and templates.get("black-friday").version == 1
