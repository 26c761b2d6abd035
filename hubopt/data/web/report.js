/* hubopt report.html: draws the map and the tables from the page's JSON data block.
   Everything is local: no request leaves the page unless the reader switches on the
   optional web basemap. */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("hubopt-data").textContent);
  var TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
  var MODE_COLORS = { road: "#6d6d6d", rail: "#8b1a1a", sea: "#1f6fb2", air: "#9c6ade",
    transfer: "#ff9800", matrix: "#37474f" };
  var PANES = [ // layer key, z-index (tiles are at 200, above the land)
    ["land", 150], ["road", 410], ["rail", 411], ["sea", 412], ["air", 413], ["transfers", 414],
    ["corridors", 415], ["allocations", 420], ["routes", 430], ["demand", 440],
    ["markets", 445], ["candidates", 450], ["hubs", 460]
  ];

  // ---------------------------------------------------------------------------- helpers

  function esc(v) {
    return String(v).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  function fmt(v, how) {
    if (v === null || v === undefined || v === "") { return "\u2013"; }
    if (how === "bool" || typeof v === "boolean") { return v ? "yes" : "no"; }
    if (typeof v !== "number") { return String(v); }
    if (how === "pct") { return (100 * v).toFixed(1) + " %"; }
    if (how === "int" || Math.abs(v) >= 1000) {
      return v.toLocaleString("en-US", { maximumFractionDigits: 0 });
    }
    if (v === 0) { return "0"; }
    return Number(v.toPrecision(3)).toLocaleString("en-US", { maximumFractionDigits: 8 });
  }

  function withUnit(v, unit, how) {
    var text = fmt(v, how);
    return unit && text !== "\u2013" ? text + " " + unit : text;
  }

  function popupTable(fields, get) {
    var rows = [];
    fields.forEach(function (f) {
      var v = get(f[0]);
      if (v === undefined) { return; }
      rows.push("<tr><th>" + esc(f[1]) + "</th><td>" + esc(withUnit(v, f[2], f[3])) +
        "</td></tr>");
    });
    return "<table>" + rows.join("") + "</table>";
  }

  function latlngs(flat) {
    var out = [];
    for (var i = 0; i + 1 < flat.length; i += 2) { out.push([flat[i + 1], flat[i]]); }
    return out;
  }

  function table(id, header, rows, opts) {
    opts = opts || {};
    var el = document.getElementById(id);
    var html = ["<thead><tr>"];
    header.forEach(function (h) { html.push("<th>" + esc(h) + "</th>"); });
    html.push("</tr></thead><tbody>");
    rows.forEach(function (row, r) {
      var attrs = opts.rowAttrs ? opts.rowAttrs(r) : "";
      html.push("<tr" + attrs + ">");
      row.forEach(function (cell) {
        var c = (cell !== null && typeof cell === "object") ? cell : { v: cell };
        var cls = c.cls || (typeof c.v === "number" ? "num" : "");
        var text = c.html !== undefined ? c.html : esc(c.text !== undefined ? c.text :
          fmt(c.v, c.how));
        html.push("<td" + (cls ? ' class="' + cls + '"' : "") + ">" + text + "</td>");
      });
      html.push("</tr>");
    });
    html.push("</tbody>");
    el.innerHTML = html.join("");
    return el;
  }

  // ---------------------------------------------------------------------------- the map

  var map = L.map("map", { zoomSnap: 0.25, preferCanvas: false });
  map.attributionControl.setPrefix(
    '<a href="https://leafletjs.com">Leaflet</a> | Map data ' + esc(DATA.osm_attribution));
  PANES.forEach(function (p) {
    map.createPane("hubopt-" + p[0]).style.zIndex = String(p[1]);
  });
  var tiles = null;  // created only when switched on: no request before that

  var layers = {};   // key -> {group, on}
  var control = L.control({ position: "topright" });
  control.onAdd = function () {
    var div = L.DomUtil.create("div", "hubopt-layers leaflet-bar");
    div.id = "layer-control";
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  control.addTo(map);

  function setLayer(key, on) {
    var entry = layers[key];
    if (!entry) { return; }
    entry.on = on;
    if (on && !map.hasLayer(entry.group)) { entry.group.addTo(map); }
    if (!on && map.hasLayer(entry.group)) { map.removeLayer(entry.group); }
  }

  function register(key, group, on) {
    if (layers[key] && map.hasLayer(layers[key].group)) { map.removeLayer(layers[key].group); }
    var keep = layers[key] ? layers[key].on : on;
    layers[key] = { group: group, on: keep };
    setLayer(key, keep);
  }

  function landLayer(land) {
    var group = L.layerGroup();
    var style = { pane: "hubopt-land", renderer: L.canvas({ pane: "hubopt-land" }),
      interactive: false, fillColor: land.land_color,
      fillOpacity: 1, color: land.coast_color, weight: 0.7 };
    land.land.forEach(function (rings) {
      group.addLayer(L.polygon(rings.map(latlngs), style));
    });
    land.lakes.forEach(function (rings) {
      group.addLayer(L.polygon(rings.map(latlngs), L.extend({}, style,
        { fillColor: land.water_color })));
    });
    return group;
  }

  var canvases = {};  // network layers are drawn on canvas: fast with many edges

  function networkLayer(key, layer) {
    var group = L.layerGroup();
    if (!canvases[key]) {
      canvases[key] = L.canvas({ pane: "hubopt-" + key, tolerance: 4 });
    }
    var style = { pane: "hubopt-" + key, renderer: canvases[key], color: layer.color,
      weight: layer.weight, opacity: layer.opacity, dashArray: layer.dashed ? "4 4" : null };
    layer.coords.forEach(function (flat, i) {
      var line = L.polyline(latlngs(flat), style);
      line.bindPopup(function () {
        var row = layer.rows[i];
        return "<strong>" + esc(layer.label) + "</strong>" + popupTable(layer.fields,
          function (k) {
            var j = layer.fields.findIndex(function (f) { return f[0] === k; });
            return row[j];
          });
      });
      group.addLayer(line);
    });
    return group;
  }

  function propsPopup(title, fields) {
    return function (props) {
      return "<strong>" + esc(title) + "</strong>" + popupTable(fields, function (k) {
        return props[k];
      });
    };
  }

  function scenarioLayers(sc) {
    var f = sc.fields;
    var out = {};
    // allocations
    var alloc = L.layerGroup();
    var allocPopup = propsPopup("allocation", f.allocations);
    sc.allocations.forEach(function (a) {
      var inter = a.props.kind === "inter_hub";
      var line = L.polyline(latlngs(a.coords), { pane: "hubopt-allocations",
        color: inter ? "#d32f2f" : "#2e7d32", weight: inter ? 2.5 : 1.5, opacity: 0.8,
        dashArray: inter ? null : "5 4" });
      line.bindPopup(function () { return allocPopup(a.props); });
      alloc.addLayer(line);
    });
    out.allocations = alloc;
    // routes, width by flow
    var top = 0;
    sc.routes.forEach(function (s) {
      if (!s.props.connector && s.props.flow > top) { top = s.props.flow; }
    });
    var routes = L.layerGroup();
    var routePopup = propsPopup("route segment", f.routes);
    sc.routes.forEach(function (s) {
      var w = top > 0 ? 1 + 9 * Math.sqrt(Math.max(s.props.flow, 0) / top) : 2;
      var line = L.polyline(latlngs(s.coords), { pane: "hubopt-routes",
        color: MODE_COLORS[s.props.mode] || "#000", weight: s.props.connector ? 1 : w,
        opacity: 0.85, dashArray: s.props.connector ? "2 3" : null, lineCap: "round" });
      line.bindPopup(function () { return routePopup(s.props); });
      routes.addLayer(line);
    });
    out.routes = routes;
    // demand points, radius by weight
    var wmax = 0;
    sc.demand.forEach(function (d) { wmax = Math.max(wmax, d.props.weight || 0); });
    var demand = L.layerGroup();
    var demandPopup = propsPopup("demand point", f.demand);
    sc.demand.forEach(function (d) {
      var rad = 3 + 12 * Math.sqrt((d.props.weight || 0) / (wmax || 1));
      var m = L.circleMarker([d.lat, d.lon], { pane: "hubopt-demand", radius: rad,
        color: "#fff", weight: 1, fillColor: "#2e7d32", fillOpacity: 0.6 });
      m.bindPopup(function () { return demandPopup(d.props); });
      demand.addLayer(m);
    });
    out.demand = demand;
    // candidate sites
    var cands = L.layerGroup();
    var candPopup = propsPopup("candidate site", f.candidates);
    sc.candidates.forEach(function (c) {
      var m = L.circleMarker([c.lat, c.lon], { pane: "hubopt-candidates", radius: 5,
        color: "#000", weight: 1.5, fillColor: c.props.open ? "#d32f2f" : "#fff",
        fillOpacity: c.props.excluded ? 0.2 : 0.9 });
      m.bindPopup(function () { return candPopup(c.props); });
      cands.addLayer(m);
    });
    out.candidates = cands;
    // hubs, named on the map
    var hubs = L.layerGroup();
    var hubPopup = propsPopup("hub", f.hubs);
    sc.hubs.forEach(function (h) {
      var m = L.circleMarker([h.lat, h.lon], { pane: "hubopt-hubs", radius: 9,
        color: "#000", weight: 2, fillColor: "#d32f2f", fillOpacity: 1 });
      m.bindPopup(function () { return hubPopup(h.props); });
      m.bindTooltip(esc(h.props.name), { permanent: true, direction: "right",
        offset: [10, 0], className: "hub-label" });
      hubs.addLayer(m);
    });
    out.hubs = hubs;
    if (sc.markets) { marketLayers(sc, out); }
    return out;
  }

  // [external] only: markets beyond the region and the world corridors to them
  function marketLayers(sc, out) {
    var mf = sc.market_fields;
    var corridors = L.layerGroup();
    var corrPopup = propsPopup("world corridor", mf.corridors);
    sc.corridors.forEach(function (c) {
      var line = L.polyline(latlngs(c.coords), { pane: "hubopt-corridors",
        color: MODE_COLORS[c.props.mode] || "#37474f", weight: c.props.typical ? 4 : 1.5,
        opacity: c.props.typical ? 0.9 : 0.5, dashArray: c.props.typical ? null : "4 4" });
      line.bindPopup(function () { return corrPopup(c.props); });
      corridors.addLayer(line);
    });
    out.corridors = corridors;
    var markets = L.layerGroup();
    var marketPopup = propsPopup("market", mf.markets);
    sc.markets.forEach(function (m) {
      var mk = L.circleMarker([m.lat, m.lon], { pane: "hubopt-markets", radius: 8,
        color: "#000", weight: 2, fillColor: "#ffb300", fillOpacity: 1 });
      mk.bindPopup(function () { return marketPopup(m.props); });
      mk.bindTooltip(esc(m.props.market), { permanent: true, direction: "right",
        offset: [10, 0], className: "market-label" });
      markets.addLayer(mk);
    });
    out.markets = markets;
  }

  // ---------------------------------------------------------------------------- controls

  var SCENARIO_KEYS = [
    ["hubs", "hubs", "dot", "#d32f2f", true],
    ["candidates", "candidate sites", "dot", "#ffffff", true],
    ["demand", "demand points", "dot", "#2e7d32", true],
    ["routes", "routes (width: flow)", "swatch", "#1f6fb2", true],
    ["allocations", "allocations", "swatch", "#2e7d32", false]
  ];

  var MARKET_KEYS = [
    ["markets", "markets (world)", "dot", "#ffb300", true],
    ["corridors", "world corridors", "swatch", "#37474f", true]
  ];

  function scenarioKeys(sc) {
    return sc.markets ? SCENARIO_KEYS.concat(MARKET_KEYS) : SCENARIO_KEYS;
  }

  function buildControl(net, sc) {
    var div = document.getElementById("layer-control");
    var html = ["<strong>Layers</strong>"];
    scenarioKeys(sc).forEach(function (k) {
      var n = { hubs: sc.hubs, candidates: sc.candidates, demand: sc.demand,
        routes: sc.routes, allocations: sc.allocations, markets: sc.markets,
        corridors: sc.corridors }[k[0]].length;
      html.push(checkbox(k[0], k[1], k[2], k[3], n, n));
      if (k[0] === "routes") {
        var modes = {};
        sc.routes.forEach(function (r) { modes[r.props.mode] = true; });
        html.push('<div class="route-modes">' + Object.keys(MODE_COLORS)
          .filter(function (m) { return modes[m]; }).map(function (m) {
            return '<span class="swatch" style="background:' + MODE_COLORS[m] + '"></span>' +
              esc(m);
          }).join(" ") + "</div>");
      }
    });
    html.push("<hr><strong>Network</strong>");
    Object.keys(net.layers).forEach(function (key) {
      var l = net.layers[key];
      html.push(checkbox(key, l.label, "swatch", l.color, l.coords.length, l.total));
    });
    if (net.land) {
      html.push(checkbox("land", "land and lakes", "swatch", net.land.land_color,
        net.land.land.length, net.land.land.length));
    }
    html.push('<hr><label><input type="checkbox" id="layer-tiles" data-layer="tiles"> ' +
      "web basemap (online, OpenStreetMap tiles)</label>");
    div.innerHTML = html.join("");
    Array.prototype.forEach.call(div.querySelectorAll("input[data-layer]"), function (box) {
      var key = box.getAttribute("data-layer");
      if (key === "tiles") {
        box.checked = tiles !== null && map.hasLayer(tiles);
        box.addEventListener("change", function () { setTiles(box.checked); });
        return;
      }
      box.checked = !!(layers[key] && layers[key].on);
      box.addEventListener("change", function () { setLayer(key, box.checked); });
    });
  }

  function checkbox(key, label, mark, color, shown, total) {
    var sw = mark === "dot" ? '<span class="dot" style="background:' + color + '"></span>' :
      '<span class="swatch" style="background:' + color + '"></span>';
    var count = shown === total ? String(total) : shown + " of " + total;
    return '<label class="' + (total ? "" : "empty") + '"><input type="checkbox" id="layer-' +
      key + '" data-layer="' + key + '"' + (total ? "" : " disabled") + ">" + sw +
      esc(label) + ' <span class="count">(' + count + ")</span></label>";
  }

  function setTiles(on) {
    if (on && tiles === null) {
      tiles = L.tileLayer(TILE_URL, { maxZoom: 19,
        attribution: "Tiles \u00a9 OpenStreetMap contributors" });
    }
    if (tiles === null) { return; }
    if (on) { tiles.addTo(map); } else { map.removeLayer(tiles); }
  }

  // ---------------------------------------------------------------------------- tables

  function renderTables(sc) {
    var u = sc.units;
    document.getElementById("summary").innerHTML = sc.hubs === undefined ? "" :
      "Case <code>" + esc(sc.name) + "</code> (" + esc(sc.case_file) + "), model <b>" +
      esc(sc.problem) + "</b>, solver status <b>" + esc(sc.status) + "</b>, " +
      esc(sc.objective_label) + " <b>" + esc(withUnit(sc.objective, sc.objective_unit)) +
      "</b> (bound " + esc(fmt(sc.bound)) + ", gap " +
      esc(fmt(sc.gap)) + "); " + sc.n_demand + " demand points, " + sc.n_candidates +
      " candidate sites, total flow " + esc(withUnit(sc.total_flow, u.flow)) +
      (sc.objective_unit ? "" : "; transport cost " +
        esc(withUnit(sc.transport_cost, u.cost))) +
      "; targets met " + sc.targets_met + " of " + sc.scorecard.length + ". Costs in " +
      esc(u.money) + ": per unit of flow in " + esc(u.unit_cost) + ", totals in " +
      esc(u.cost) + ".";
    document.getElementById("description").textContent = sc.description || "";
    table("hubs-table", ["hub", "modes joined", "modes within " + sc.mode_reach_minutes +
      " min", "four-mode", "throughput (" + u.flow + ")", "fixed cost (" + u.cost + ")",
      "status"], sc.hubs.map(function (h) {
      var p = h.props;
      return [p.name, p.modes, p.modes_reached, { v: p.full_four_mode, how: "bool" },
        p.throughput, p.fixed_cost, p.status];
    }), { rowAttrs: function (r) {
      return ' data-lat="' + sc.hubs[r].lat + '" data-lon="' + sc.hubs[r].lon +
        '" title="show on the map"';
    } });
    table("scorecard-table", ["target", "metric", "threshold", "value", "best possible",
      "result", "source"], sc.scorecard.map(function (t) {
      return [{ text: t.id }, { text: t.metric }, { text: t.operator + " " + fmt(t.threshold),
        cls: "num" }, t.value, t.best_possible,
      { html: '<span class="verdict ' + t.result.replace(" ", "-") + '">' + esc(t.result) +
        "</span>" }, { text: t.source, cls: "src" }];
    }));
    table("resilience-table", ["failed hub", "cost increase (" + u.cost + ")",
      "cost increase share", "demand weight losing " + sc.access_minutes + "-min access",
      "population share losing access"], sc.hubs.map(function (h) {
      var p = h.props;
      return [p.name, p.cost_increase, { v: p.cost_increase_share, how: "pct", cls: "num" },
        p.population_lost, { v: p.population_lost_share, how: "pct", cls: "num" }];
    }));
    var total = 0;
    sc.objective_by_mode.forEach(function (r) { total += r[1]; });
    table("objective-table", ["mode", "cost (" + u.cost + ")", "share"],
      sc.objective_by_mode.map(function (r) {
        return [r[0], r[1], { v: total ? r[1] / total : 0, how: "pct", cls: "num" }];
      }).concat([["fixed costs of hubs", sc.fixed_cost_total, ""]]));
    table("allocation-table", ["demand point", "hub", "demand weight", "flow (" + u.flow + ")",
      "cost (" + u.cost + ")", "road time (min)"],
    sc.allocations.filter(function (a) { return a.props.kind === "access"; })
      .map(function (a) {
        var p = a.props;
        return [p.from_name, p.to_name, p.demand_weight, p.flow, p.cost,
          p.minutes === undefined ? "" : p.minutes];
      }));
    table("candidates-table", ["site", "modes joined", "modes within " +
      sc.mode_reach_minutes + " min", "open", "existing", "excluded"],
    sc.candidates.map(function (c) {
      var p = c.props;
      return [p.name, p.modes, p.modes_reached, { v: p.open, how: "bool" },
        { v: p.existing, how: "bool" }, { v: p.excluded, how: "bool" }];
    }));
    table("network-table", sc.network_summary.columns, sc.network_summary.rows);
    var warn = document.getElementById("warnings");
    warn.innerHTML = sc.warnings.map(function (w) { return "<li>" + esc(w) + "</li>"; })
      .join("");
    document.getElementById("warnings-section").hidden = sc.warnings.length === 0;
    var land = DATA.networks[sc.network].land;
    document.getElementById("footer-attribution").textContent = sc.attribution +
      (land ? ". " + land.attribution : "");
  }

  function renderNetworkNote(net) {
    var parts = [];
    Object.keys(net.layers).forEach(function (key) {
      var l = net.layers[key];
      parts.push(l.label + " " + (l.coords.length === l.total ? l.total :
        l.coords.length + " of " + l.total) + " edges");
    });
    document.getElementById("network-note").textContent = "Drawn on the map: " +
      parts.join(", ") + "; lines simplified to " + net.tolerance_deg +
      "\u00b0. The full network is in network.gpkg.";
  }

  function renderComparison(current) {
    var cmp = DATA.comparison;
    if (!cmp) { return; }
    document.getElementById("comparison-section").hidden = false;
    var col = cmp.columns.indexOf("scenario");
    table("comparison-table", cmp.columns, cmp.rows.map(function (row) {
      return row.map(function (cell) {
        var n = Number(cell);
        return cell !== "" && isFinite(n) && !/^0\d/.test(cell) ? n : cell.replace(/;/g, ", ");
      });
    }), { rowAttrs: function (r) {
      var name = cmp.rows[r][col];
      return ' data-scenario="' + esc(name) + '"' + (name === current ? ' class="current"' :
        "");
    } });
  }

  // ---------------------------------------------------------------------------- scenarios

  var currentNetwork = -1;
  var landAttribution = "";
  var fitted = false;

  function show(name) {
    var sc = DATA.scenarios.filter(function (s) { return s.name === name; })[0];
    if (!sc) { return; }
    renderComparison(name);
    if (sc.hubs === undefined) {
      document.getElementById("summary").textContent = "Scenario " + sc.name +
        " has no result: " + sc.error;
      document.getElementById("description").textContent = "";
      ["hubs", "scorecard", "resilience", "objective", "allocation", "candidates"]
        .forEach(function (t) { document.getElementById(t + "-table").innerHTML = ""; });
      SCENARIO_KEYS.concat(MARKET_KEYS).forEach(function (k) {
        register(k[0], L.layerGroup(), k[4]);
      });
      return;
    }
    var net = DATA.networks[sc.network];
    if (sc.network !== currentNetwork) {
      currentNetwork = sc.network;
      Object.keys(net.layers).forEach(function (key) {
        var l = net.layers[key];
        register(key, networkLayer(key, l), l.on);
      });
      if (layers.land) { map.removeLayer(layers.land.group); delete layers.land; }
      if (landAttribution) { map.attributionControl.removeAttribution(landAttribution); }
      landAttribution = "";
      document.getElementById("map").style.background = "";
      if (net.land) {
        register("land", landLayer(net.land), true);
        landAttribution = esc(net.land.attribution);
        map.attributionControl.addAttribution(landAttribution);
        document.getElementById("map").style.background = net.land.water_color;
      }
      renderNetworkNote(net);
    }
    var made = scenarioLayers(sc);
    SCENARIO_KEYS.concat(MARKET_KEYS).forEach(function (k) {
      register(k[0], made[k[0]] || L.layerGroup(), k[4]);
    });
    buildControl(net, sc);
    renderTables(sc);
    if (!fitted) {
      var pts = sc.demand.concat(sc.candidates).map(function (p) { return [p.lat, p.lon]; });
      var box = document.getElementById("layer-control");
      if (pts.length) {
        map.fitBounds(L.latLngBounds(pts).pad(0.03), { paddingTopLeft: [50, 10],
          paddingBottomRight: [box ? box.offsetWidth + 130 : 10, 10] });
      } else {
        map.setView([0, 0], 2);
      }
      fitted = true;
    }
  }

  document.getElementById("hubs-table").addEventListener("click", function (ev) {
    var tr = ev.target.closest("tr[data-lat]");
    if (tr) {
      map.setView([Number(tr.getAttribute("data-lat")), Number(tr.getAttribute("data-lon"))],
        Math.max(map.getZoom(), 9));
      document.getElementById("map").scrollIntoView({ behavior: "smooth" });
    }
  });

  var select = document.getElementById("scenario");
  if (DATA.scenarios.length > 1 || DATA.kind === "sweep") {
    document.getElementById("scenario-box").hidden = false;
    DATA.scenarios.forEach(function (s) {
      var opt = document.createElement("option");
      opt.value = s.name;
      opt.textContent = s.label + (s.error ? " (error)" : "");
      select.appendChild(opt);
    });
    select.addEventListener("change", function () { show(select.value); });
    document.getElementById("comparison-table").addEventListener("click", function (ev) {
      var tr = ev.target.closest("tr[data-scenario]");
      if (tr) {
        select.value = tr.getAttribute("data-scenario");
        show(select.value);
      }
    });
  }
  var first = DATA.scenarios.filter(function (s) { return s.hubs !== undefined; })[0] ||
    DATA.scenarios[0];
  if (first) {
    select.value = first.name;
    show(first.name);
  } else {
    map.setView([0, 0], 2);
  }

  window.huboptReport = { map: map, layers: layers, show: show, data: DATA };
}());
