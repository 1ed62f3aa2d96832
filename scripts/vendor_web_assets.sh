#!/usr/bin/env bash
# Copy the pinned Swagger UI and ReDoc builds into service/data/web/vendor/ (served at /docs and /redoc,
# offline). Run after changing a version below; commit the files and vendor/README.md it writes.
# Needs npm (it fetches the two packages from the npm registry with `npm pack`).
set -euo pipefail
SWAGGER_UI=5.35.0 # swagger-ui-dist (Apache-2.0)
REDOC=2.5.4       # redoc (MIT); the 2.x line is the one FastAPI's own /redoc page loads

cd "$(dirname "$0")/.."
dest=service/data/web/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "swagger-ui-dist@$SWAGGER_UI" "redoc@$REDOC" >/dev/null)
mkdir -p "$work/s" "$work/r"
tar xzf "$work/swagger-ui-dist-$SWAGGER_UI.tgz" -C "$work/s"
tar xzf "$work/redoc-$REDOC.tgz" -C "$work/r"

rm -rf "$dest"
mkdir -p "$dest/swagger-ui" "$dest/redoc"
for f in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE; do
  cp "$work/s/package/$f" "$dest/swagger-ui/$f"
done
cp "$work/r/package/bundles/redoc.standalone.js" "$work/r/package/bundles/redoc.standalone.js.LICENSE.txt" \
  "$work/r/package/LICENSE" "$dest/redoc/"
# ReDoc's sidebar shows Redocly's logo from their CDN, with no option to turn it off: point the image at
# an empty data: URL instead (its onError handler then hides it; the "API docs by Redocly" link stays).
logo='https://cdn.redoc.ly/redoc/logo-mini.svg'
grep -q "$logo" "$dest/redoc/redoc.standalone.js"
sed -i -e "s#$logo#data:,#g" "$dest/redoc/redoc.standalone.js"
# The bundles end with a sourceMappingURL comment for a .map file we do not ship.
sed -i -e '/^\/\/# sourceMappingURL=/d' "$dest/swagger-ui/swagger-ui-bundle.js" "$dest/redoc/redoc.standalone.js"
sed -i -e 's#/\*\# sourceMappingURL=[^*]*\*/##' "$dest/swagger-ui/swagger-ui.css"

{
  echo "# Vendored documentation viewers"
  echo
  echo "Served by \`service/api/web.py\` at \`/docs\` (Swagger UI) and \`/redoc\` (ReDoc), so the API"
  echo "documentation works without internet. Written by \`scripts/vendor_web_assets.sh\`; do not edit."
  echo
  echo "| package (npm) | version | licence | files |"
  echo "| --- | --- | --- | --- |"
  echo "| swagger-ui-dist | $SWAGGER_UI | Apache-2.0 (\`swagger-ui/LICENSE\`, \`NOTICE\`) | swagger-ui-bundle.js, swagger-ui.css |"
  echo "| redoc | $REDOC | MIT (\`redoc/LICENSE\`) | bundles/redoc.standalone.js |"
  echo
  echo "Two changes to the packages' files: the trailing \`sourceMappingURL\` comments are removed (the"
  echo "maps are not shipped), and ReDoc's sidebar logo, an image on Redocly's CDN, is replaced by an empty"
  echo "\`data:\` URL so that the page fetches nothing from another origin. SHA-256 after both:"
  echo
  echo '```'
  (cd "$dest" && sha256sum swagger-ui/swagger-ui-bundle.js swagger-ui/swagger-ui.css redoc/redoc.standalone.js)
  echo '```'
} > "$dest/README.md"
echo "vendored swagger-ui-dist $SWAGGER_UI and redoc $REDOC into $dest"
