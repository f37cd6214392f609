/* Renders Messaging API message objects (text, Flex, templates, media) into DOM.
 * An approximation of the LINE app, good enough to read and tap through a bot's
 * conversation; actions are handed to `onAction(action)`. No dependencies. */
"use strict";

const LineRender = (() => {
  const SPACING = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
  const FONT = { xxs: 10, xs: 11, sm: 13, md: 14, lg: 16, xl: 18, xxl: 22, "3xl": 26, "4xl": 30, "5xl": 36 };
  const ICON = { xxs: 10, xs: 12, sm: 14, md: 16, lg: 18, xl: 20, xxl: 24 };
  const IMAGE_WIDTH = { xxs: 40, xs: 60, sm: 80, md: 100, lg: 120, xl: 140, xxl: 160, "3xl": 180, "4xl": 200, "5xl": 220, full: "100%" };

  // Inline SVG icons: the page must not depend on an emoji font being installed.
  const SVG = {
    image: '<rect x="3" y="4" width="18" height="16" rx="2"/><circle cx="9" cy="10" r="2"/><path d="M21 16l-5-5-9 9"/>',
    pin: '<path d="M12 22s7-6.5 7-12a7 7 0 1 0-14 0c0 5.5 7 12 7 12z"/><circle cx="12" cy="10" r="2.5"/>',
    smile: '<circle cx="12" cy="12" r="9"/><path d="M8 14s1.5 2 4 2 4-2 4-2"/><circle cx="9" cy="9.5" r=".8"/><circle cx="15" cy="9.5" r=".8"/>',
    play: '<circle cx="12" cy="12" r="9"/><path d="M10 8.5v7l6-3.5z"/>',
    sound: '<path d="M4 9v6h4l5 4V5L8 9z"/><path d="M16 9a4 4 0 0 1 0 6"/>',
  };

  function svgIcon(name, size) {
    const span = document.createElement("span");
    span.className = "svg-icon";
    span.innerHTML = `<svg viewBox="0 0 24 24" width="${size || 20}" height="${size || 20}" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round">${SVG[name]}</svg>`;
    return span;
  }

  function sticker(caption) {
    const node = el("div", "sticker");
    node.append(svgIcon("smile", 64), el("div", "sticker-caption", caption));
    return node;
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function px(value, table) {
    if (value === undefined || value === null) return null;
    if (table && value in table) return table[value] + "px";
    return value; // already "12px" or "10%"
  }

  function actionable(node, action, onAction) {
    if (!action) return node;
    node.classList.add("tappable");
    node.addEventListener("click", (e) => { e.stopPropagation(); onAction(action); });
    return node;
  }

  function placeholder(label, ratio, cls, iconName) {
    const box = el("div", "img-ph " + (cls || ""));
    if (ratio) {
      const [w, h] = String(ratio).split(":").map(Number);
      if (w && h) box.style.aspectRatio = `${w} / ${h}`;
    }
    box.append(svgIcon(iconName || "image", 26), el("span", "img-ph-label", label || "image"));
    return box;
  }

  function fileName(url) {
    try { return decodeURIComponent(new URL(url).pathname.split("/").pop()) || url; } catch (e) { return url || ""; }
  }

  // ---------------------------------------------------------------- Flex
  function flexContainer(c, onAction) {
    if (c.type === "carousel") {
      const row = el("div", "flex-carousel");
      (c.contents || []).forEach((b) => row.append(bubble(b, onAction)));
      return row;
    }
    return bubble(c, onAction);
  }

  function bubble(b, onAction) {
    const node = el("div", "flex-bubble size-" + (b.size || "mega"));
    const styles = b.styles || {};
    for (const block of ["header", "hero", "body", "footer"]) {
      if (!b[block]) continue;
      const part = el("div", "flex-block flex-" + block);
      const st = styles[block] || {};
      if (st.backgroundColor) part.style.backgroundColor = st.backgroundColor;
      if (st.separator) part.classList.add("sep-top");
      part.append(component(b[block], onAction, "vertical", block));
      node.append(part);
    }
    return actionable(node, b.action, onAction);
  }

  function component(c, onAction, parentLayout, block) {
    const render = { box, text, button, separator, image, icon, filler, spacer, video: image }[c.type];
    const node = render ? render(c, onAction, parentLayout, block) : el("div", "flex-unknown", `[${c.type}]`);
    if (c.flex !== undefined) node.style.flex = `${c.flex} ${c.flex} 0`;
    else if (parentLayout !== "vertical" && c.type !== "separator") node.style.flex = "1 1 0";
    const margin = px(c.margin, SPACING);
    if (margin) node.style[parentLayout === "vertical" ? "marginTop" : "marginLeft"] = margin;
    if (c.position === "absolute") {
      node.style.position = "absolute";
      for (const side of ["Top", "Bottom", "Start", "End"]) {
        const v = c["offset" + side];
        if (v) node.style[{ Top: "top", Bottom: "bottom", Start: "left", End: "right" }[side]] = px(v, SPACING);
      }
    }
    if (c.gravity) node.style.alignSelf = { top: "flex-start", bottom: "flex-end", center: "center" }[c.gravity];
    return node;
  }

  function box(c, onAction, _parent, block) {
    const node = el("div", "flex-box layout-" + (c.layout || "vertical"));
    if (block) node.classList.add("block-root");
    const gap = px(c.spacing, SPACING);
    if (gap) node.style.gap = gap;
    const styleMap = {
      backgroundColor: "backgroundColor", borderColor: "borderColor", cornerRadius: "borderRadius",
      width: "width", height: "height", maxWidth: "maxWidth", maxHeight: "maxHeight",
      paddingAll: "padding", paddingTop: "paddingTop", paddingBottom: "paddingBottom",
      paddingStart: "paddingLeft", paddingEnd: "paddingRight",
    };
    for (const [k, css] of Object.entries(styleMap)) {
      if (c[k]) node.style[css] = px(c[k], k.startsWith("padding") || k === "cornerRadius" ? SPACING : null);
    }
    if (c.borderWidth) {
      node.style.borderStyle = "solid";
      node.style.borderWidth = { none: "0", light: "0.5px", normal: "1px", medium: "2px", "semi-bold": "3px", bold: "4px" }[c.borderWidth] || c.borderWidth;
    }
    if (c.justifyContent) node.style.justifyContent = c.justifyContent;
    if (c.alignItems) node.style.alignItems = c.alignItems;
    if (c.background && c.background.type === "linearGradient") {
      node.style.background = `linear-gradient(${c.background.angle || "0deg"}, ${c.background.startColor}, ${c.background.endColor})`;
    }
    (c.contents || []).forEach((child) => node.append(component(child, onAction, c.layout || "vertical")));
    return actionable(node, c.action, onAction);
  }

  function text(c, onAction) {
    const node = el("div", "flex-text");
    if (c.contents && c.contents.length) {
      c.contents.forEach((s) => {
        const span = el("span", null, s.text);
        if (s.color) span.style.color = s.color;
        if (s.weight === "bold") span.style.fontWeight = "700";
        if (s.size) span.style.fontSize = px(s.size, FONT);
        if (s.style === "italic") span.style.fontStyle = "italic";
        if (s.decoration && s.decoration !== "none") span.style.textDecoration = s.decoration;
        node.append(span);
      });
    } else {
      node.textContent = c.text;
    }
    node.style.fontSize = px(c.size || "md", FONT);
    if (c.weight === "bold") node.style.fontWeight = "700";
    if (c.color) node.style.color = c.color;
    if (c.align) node.style.textAlign = { start: "left", end: "right", center: "center" }[c.align];
    if (c.style === "italic") node.style.fontStyle = "italic";
    if (c.decoration && c.decoration !== "none") node.style.textDecoration = c.decoration;
    if (c.wrap) {
      node.classList.add("wrap");
      if (c.maxLines) { node.style.webkitLineClamp = c.maxLines; node.classList.add("clamp"); }
    }
    if (c.lineSpacing) node.style.lineHeight = `calc(1em + ${c.lineSpacing})`;
    return actionable(node, c.action, onAction);
  }

  function button(c, onAction) {
    const a = c.action || {};
    const style = c.style || "link";
    const node = el("button", `flex-button ${style} h-${c.height || "md"}`, a.label || a.text || a.type);
    node.type = "button";
    if (c.color) {
      if (style === "link") node.style.color = c.color;
      else node.style.backgroundColor = c.color;
    }
    node.title = describeAction(a);
    node.addEventListener("click", () => onAction(a));
    return node;
  }

  function separator(c) {
    const node = el("div", "flex-separator");
    if (c.color) node.style.backgroundColor = c.color;
    return node;
  }

  function image(c, onAction) {
    const node = placeholder(fileName(c.url), c.aspectRatio || "1:1", "flex-image");
    const width = px(c.size || "md", IMAGE_WIDTH);
    node.style.width = width;
    node.style.maxWidth = "100%";
    if (c.align === "start") node.style.marginRight = "auto";
    else if (c.align === "end") node.style.marginLeft = "auto";
    else node.style.margin = "0 auto";
    node.title = c.url || "";
    return actionable(node, c.action, onAction);
  }

  function icon(c) {
    const node = el("span", "flex-icon", "★");
    node.style.fontSize = px(c.size || "md", ICON);
    node.style.flex = "0 0 auto";
    return node;
  }

  function filler() { return el("div", "flex-filler"); }
  function spacer(c) { const n = el("div", "flex-filler"); n.style.minHeight = px(c.size || "md", SPACING); return n; }

  // ---------------------------------------------------------------- templates
  function actionButton(a, onAction, cls) {
    const b = el("button", cls || "tpl-action", a.label || a.text || a.type);
    b.type = "button";
    b.title = describeAction(a);
    b.addEventListener("click", () => onAction(a));
    return b;
  }

  function template(t, onAction) {
    if (t.type === "confirm") {
      const node = el("div", "tpl tpl-confirm");
      node.append(el("div", "tpl-text", t.text));
      const row = el("div", "tpl-confirm-actions");
      (t.actions || []).forEach((a) => row.append(actionButton(a, onAction)));
      node.append(row);
      return node;
    }
    if (t.type === "buttons") return column(t, onAction, t.imageAspectRatio);
    if (t.type === "carousel") {
      const row = el("div", "flex-carousel");
      (t.columns || []).forEach((col) => row.append(column(col, onAction, t.imageAspectRatio)));
      return row;
    }
    if (t.type === "image_carousel") {
      const row = el("div", "flex-carousel");
      (t.columns || []).forEach((col) => {
        const card = el("div", "tpl tpl-image-col");
        card.append(placeholder(fileName(col.imageUrl), "1:1"));
        if (col.action && col.action.label) card.append(el("div", "tpl-image-label", col.action.label));
        row.append(actionable(card, col.action, onAction));
      });
      return row;
    }
    return el("div", "bubble bot", `[template ${t.type}]`);
  }

  function column(t, onAction, ratio) {
    const node = el("div", "tpl tpl-buttons");
    if (t.thumbnailImageUrl) node.append(placeholder(fileName(t.thumbnailImageUrl), ratio === "square" ? "1:1" : "151:100"));
    const inner = el("div", "tpl-inner");
    if (t.title) inner.append(el("div", "tpl-title", t.title));
    inner.append(el("div", "tpl-text", t.text));
    node.append(inner);
    (t.actions || []).forEach((a) => node.append(actionButton(a, onAction)));
    return actionable(node, t.defaultAction, onAction);
  }

  // ---------------------------------------------------------------- messages
  function describeAction(a) {
    switch (a.type) {
      case "postback": return `postback: ${a.data}`;
      case "message": return `message: ${a.text}`;
      case "uri": return `uri: ${a.uri}`;
      case "datetimepicker": return `datetimepicker (${a.mode}): ${a.data}`;
      default: return a.type || "";
    }
  }

  /* Returns the DOM for one bot message; `altText` is shown as a caption. */
  function message(m, onAction) {
    switch (m.type) {
      case "text":
      case "textV2":
        return el("div", "bubble bot", m.text);
      case "sticker":
        return sticker(`スタンプ ${m.packageId}/${m.stickerId}`);
      case "image":
        return placeholder(fileName(m.originalContentUrl), "4:3", "media");
      case "video":
        return placeholder(fileName(m.originalContentUrl), "16:9", "media", "play");
      case "audio":
      {
        const node = el("div", "bubble bot audio");
        node.append(svgIcon("sound", 18), el("span", null, `${fileName(m.originalContentUrl)}（${Math.round((m.duration || 0) / 1000)}秒）`));
        return node;
      }
      case "location":
        return location(m);
      case "imagemap":
        return placeholder(`imagemap: ${m.altText}`, `${(m.baseSize || {}).width || 1}:${(m.baseSize || {}).height || 1}`, "media");
      case "template":
        return template(m.template || {}, onAction);
      case "flex":
        return flexContainer(m.contents || {}, onAction);
      default:
        return el("div", "bubble bot", `[${m.type}]`);
    }
  }

  function location(m) {
    const node = el("div", "location-card");
    const map = el("div", "loc-map");
    map.append(svgIcon("pin", 28));
    node.append(map);
    const info = el("div", "loc-info");
    info.append(el("div", "loc-title", m.title || "位置情報"));
    if (m.address) info.append(el("div", "loc-address", m.address));
    info.append(el("div", "loc-coords", `${Number(m.latitude).toFixed(5)}, ${Number(m.longitude).toFixed(5)}`));
    node.append(info);
    return node;
  }

  return { message, location, placeholder, sticker, svgIcon, describeAction, el };
})();
