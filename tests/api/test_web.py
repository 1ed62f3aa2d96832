"""The web page and the API docs as HTTP resources (the browser tests in tests/browser drive them):
served from the package, every asset they name present, nothing from another origin, no key needed."""

import re

import httpx
import pytest

from service.api.web import web_dir

pytestmark = pytest.mark.anyio

#: ``src=`` / ``href=`` in HTML, ``import … from "…"`` in the page's modules.
HTML_REF = re.compile(r"""(?:src|href|spec-url)="([^"#]+)\"""")
JS_IMPORT = re.compile(r"""from\s+"(\./[^"]+)\"""")


@pytest.mark.parametrize(
    "path, file", [("/", "index.html"), ("/docs", "docs.html"), ("/redoc", "redoc.html")]
)
async def test_pages_are_served_with_a_same_origin_policy(client, path, file):
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == (web_dir() / file).read_text()
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    # Nothing but this origin (and inline data) anywhere in the policy.
    assert not re.search(r"https?:", policy)


async def test_every_asset_a_page_names_is_served(client):
    """Each page's links and scripts, and every module the page's JavaScript imports, answer 200."""
    pending = [("/", "index.html"), ("/docs", "docs.html"), ("/redoc", "redoc.html")]
    seen: set[str] = set()
    for _, file in pending:
        html = (web_dir() / file).read_text()
        refs = [r for r in HTML_REF.findall(html) if r not in ("docs", "redoc", "openapi.json")]
        assert refs, file
        for ref in refs:
            assert not ref.startswith(("http:", "https:", "//")), f"{file} links outside: {ref}"
            seen.add("/" + ref)
    modules = [p for p in seen if p.endswith(".js") and "/js/" in p]
    while modules:
        module = modules.pop()
        source = (web_dir() / module.removeprefix("/static/")).read_text()
        for name in JS_IMPORT.findall(source):
            path = module.rsplit("/", 1)[0] + "/" + name.removeprefix("./")
            if path not in seen:
                seen.add(path)
                modules.append(path)
    files = {f"/static/js/files/{name}.js" for name in ("read", "rows", "vcf", "gzip", "text")}
    assert files <= seen and "/static/vendor/redoc/redoc.standalone.js" in seen
    for path in sorted(seen):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.content, path


async def test_no_shipped_page_file_names_another_origin():
    """The page's own HTML, CSS and JavaScript fetch nothing from elsewhere (the vendored viewers are
    checked in the browser, from its network log)."""
    root = web_dir()
    own = [p for p in root.rglob("*") if p.is_file() and "vendor" not in p.parts and p.suffix != ".md"]
    assert {p.name for p in own} >= {"index.html", "page.css", "main.js", "read.js", "rows.js", "vcf.js"}
    for path in own:
        text = path.read_text()
        urls = re.findall(r"https?://[^\s\"')]+", text)
        assert [u for u in urls if u != "http://www.w3.org/2000/svg"] == [], path


async def test_the_page_and_docs_need_no_key_but_the_api_does(make_app):
    app = make_app(require_api_key=True, api_keys=["k"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as c:
        for path in ("/", "/docs", "/redoc", "/openapi.json", "/static/page.css", "/static/js/main.js"):
            assert (await c.get(path)).status_code == 200, path
        assert (await c.get("/info")).status_code == 401
        assert (await c.get("/info", headers={"x-api-key": "k"})).status_code == 200
        # The open static prefix is no way around the key.
        for sneaky in ("/static/../info", "/static/%2e%2e/info", "/static//info"):
            response = await c.get(sneaky)
            assert response.status_code in (401, 404), sneaky
            assert "limits" not in response.text


async def test_missing_static_files_answer_the_json_404(client):
    response = await client.get("/static/nope.js")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


async def test_pages_are_not_in_the_api_schema(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not {"/", "/docs", "/redoc"} & set(paths)
