// The CesiumJS globe, drawn on demand. Cesium is loaded once from the server's own copy (the
// base URL comes from /web/config.json; null when CesiumJS is not installed) and renders only
// when something changed: the camera, a tile, the data, or the clock while it plays
// (requestRenderMode with maximumRenderTimeChange = Infinity; the clock is paused by default).
// In software WebGL (SwiftShader, llvmpipe) it draws at half resolution.
//
// Two globes, each its own viewer, made when first asked for: #globe (orbital safety: the catalog
// and a conjunction) and #impact-globe (NEO watch: an imminent impactor's ground track).
// A globe's element carries its state for tests and for the curious: data-state = loading |
// unavailable | drawing | drawn; #globe also data-catalog-points, data-event-entities.
import { $ } from "./dom.js";

const globes = {}; // container id -> { starting, sources, latest }

function globeOf(id) {
  // latest: a slower, older request must not replace a newer one
  globes[id] ??= { starting: null, sources: {}, latest: {} };
  return globes[id];
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.addEventListener("load", resolve);
    script.addEventListener("error", () => reject(new Error(`cannot load ${src}`)));
    document.head.append(script);
  });
}

function loadStyle(href) {
  return new Promise((resolve, reject) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    link.addEventListener("load", resolve);
    link.addEventListener("error", () => reject(new Error(`cannot load ${href}`)));
    document.head.append(link);
  });
}

/** The renderer's name says whether WebGL runs on the CPU. */
export function softwareWebGL() {
  const gl = document.createElement("canvas").getContext("webgl");
  if (!gl) return true;
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension("WEBGL_lose_context")?.loseContext();
  return /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
}

function createViewer(container, clockWidgets) {
  const Cesium = window.Cesium;
  Cesium.Ion.defaultAccessToken = "";
  const viewer = new Cesium.Viewer(container, {
    baseLayer: Cesium.ImageryLayer.fromProviderAsync(
      Cesium.TileMapServiceImageryProvider.fromUrl(Cesium.buildModuleUrl("Assets/Textures/NaturalEarthII")),
    ),
    terrainProvider: new Cesium.EllipsoidTerrainProvider(),
    baseLayerPicker: false,
    geocoder: false,
    homeButton: false,
    sceneModePicker: false,
    navigationHelpButton: false,
    fullscreenButton: false,
    infoBox: false,
    selectionIndicator: false,
    animation: clockWidgets,
    timeline: clockWidgets,
    shouldAnimate: false,
    requestRenderMode: true,
    maximumRenderTimeChange: Infinity,
    contextOptions: { webgl: { preserveDrawingBuffer: true } },
  });
  if (softwareWebGL()) viewer.resolutionScale = 0.5;
  viewer.scene.globe.enableLighting = false;
  const scene = viewer.scene;
  let shown = viewer.clock.currentTime.clone();
  viewer.clock.onTick.addEventListener((clock) => {
    // the clock moved (playing, or the timeline dragged) or data are still being prepared: draw
    if (!Cesium.JulianDate.equals(clock.currentTime, shown)) {
      shown = clock.currentTime.clone(shown);
      scene.requestRender();
    } else if (!viewer.dataSourceDisplay.ready) scene.requestRender();
  });
  scene.postRender.addEventListener(() => {
    const drawn = scene.globe.tilesLoaded && viewer.dataSourceDisplay.ready;
    if (container.dataset.state !== (drawn ? "drawn" : "drawing")) container.dataset.state = drawn ? "drawn" : "drawing";
    if (!drawn) scene.requestRender(); // until the last tile is in
  });
  return viewer;
}

let cesium = null; // CesiumJS's script and style, loaded once for both globes

async function loadCesium() {
  const config = await fetch("/web/config.json").then((r) => r.json());
  if (!config.cesium_base_url) return false;
  window.CESIUM_BASE_URL = config.cesium_base_url;
  await Promise.all([
    loadStyle(`${config.cesium_base_url}Widgets/widgets.css`),
    loadScript(`${config.cesium_base_url}Cesium.js`),
  ]);
  return true;
}

async function start(id) {
  const container = $(`#${id}`);
  container.dataset.state = "loading";
  cesium ??= loadCesium();
  if (!(await cesium)) {
    $(`#${id}-note`).textContent = "the globe needs CesiumJS (scripts/fetch-web-assets installs it)";
    container.dataset.state = "unavailable";
    return null;
  }
  $(`#${id}-note`)?.remove();
  container.dataset.state = "drawing";
  return createViewer(container, id === "globe"); // the impact globe shows no moving things: no clock
}

/** Whether the viewer of ``id`` was asked for (CesiumJS loading or loaded). */
export function started(id = "globe") {
  return globeOf(id).starting !== null;
}

/** The viewer of the globe in element ``id``, or null when CesiumJS is not installed; the first
 * call makes it (and loads CesiumJS if no globe did). */
export function viewer(id = "globe") {
  const g = globeOf(id);
  g.starting ??= start(id);
  return g.starting;
}

async function replace(slot, czml, id = "globe") {
  const g = globeOf(id);
  const ticket = (g.latest[slot] = (g.latest[slot] ?? 0) + 1);
  const v = await viewer(id);
  if (!v) return null;
  const source = await window.Cesium.CzmlDataSource.load(czml);
  if (ticket !== g.latest[slot]) return null;
  if (g.sources[slot]) v.dataSources.remove(g.sources[slot], true);
  g.sources[slot] = source;
  await v.dataSources.add(source);
  v.scene.requestRender();
  return source;
}

/** The catalog's points (a CZML document). */
export async function showCatalog(czml) {
  const source = await replace("catalog", czml);
  if (source) $("#globe").dataset.catalogPoints = String(source.entities.values.length);
}

/** A conjunction's two trajectories around TCA (a CZML document whose clock is at TCA). */
export async function showEvent(czml) {
  const source = await replace("event", czml);
  if (!source) return;
  const v = await viewer();
  v.clock.currentTime = window.Cesium.JulianDate.fromIso8601(czml[0].clock.currentTime);
  v.clock.shouldAnimate = false;
  await v.zoomTo(source);
  v.scene.requestRender();
  $("#globe").dataset.eventEntities = String(source.entities.values.length);
}

/** An imminent impactor on #impact-globe (a CZML document: ground track, entry point, entry region);
 * the camera frames it. Resolves to the data source (null without CesiumJS). */
export async function showImpact(czml) {
  const source = await replace("impact", czml, "impact-globe");
  if (!source) return null;
  const v = await viewer("impact-globe");
  await v.zoomTo(source);
  v.scene.requestRender();
  return source;
}

/** Take the impactor off #impact-globe (another object was selected). */
export async function clearImpact() {
  const g = globeOf("impact-globe");
  g.latest.impact = (g.latest.impact ?? 0) + 1; // a request still on its way lands nowhere
  const v = await viewer("impact-globe");
  if (v && g.sources.impact) {
    v.dataSources.remove(g.sources.impact, true);
    g.sources.impact = null;
    v.scene.requestRender();
  }
}
