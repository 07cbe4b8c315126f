// Block Kit to DOM, for the local workspace. Only text nodes are ever created
// from Alliance's strings (no innerHTML), so a message cannot inject markup.
"use strict";

const BlockKit = (() => {
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  const EMOJI = { warning: "⚠️", zzz: "💤", seedling: "🌱", white_check_mark: "✅", speech_balloon: "💬",
                  bell: "🔔", calendar: "📅", memo: "📝", x: "❌", hourglass: "⏳", chart_with_upwards_trend: "📈",
                  chart_with_downwards_trend: "📉", thumbsup: "👍", eyes: "👀", wave: "👋", lock: "🔒" };

  function decode(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function words(text) {  // text outside code: entities decoded, :emoji: shown
    return decode(text).replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] || all);
  }

  // -- mrkdwn -------------------------------------------------------------
  const INLINE = /(<[^<>\n]+>)|(`[^`\n]+`)|(\*[^*\n]+\*)|(\b_[^_\n]+_\b)|(~[^~\n]+~)/g;

  function link(target, ctx) {
    const [address, label] = target.split("|", 2);
    if (address.startsWith("@")) return el("span", "mention", "@" + (ctx.names[address.slice(1)] || address.slice(1)));
    if (address.startsWith("#")) return el("span", "mention", "#" + (ctx.channels[address.slice(1)] || label || address.slice(1)));
    if (address.startsWith("!date")) return document.createTextNode(decode(label || ""));
    if (address.startsWith("!")) return el("span", "mention", "@" + address.slice(1).split("^")[0]);
    const a = el("a", "link", decode(label || address));
    a.href = address;
    if (!address.startsWith(location.origin)) { a.target = "_blank"; a.rel = "noopener noreferrer"; }
    return a;
  }

  function inline(text, ctx, into) {
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      if (match.index > last) into.appendChild(document.createTextNode(words(text.slice(last, match.index))));
      const token = match[0];
      if (match[1]) into.appendChild(link(token.slice(1, -1), ctx));
      else if (match[2]) into.appendChild(el("code", null, decode(token.slice(1, -1))));
      else {
        const tag = match[3] ? "strong" : match[4] ? "em" : "s";
        const wrap = el(tag);
        inline(token.slice(1, -1), ctx, wrap);
        into.appendChild(wrap);
      }
      last = match.index + token.length;
    }
    if (last < text.length) into.appendChild(document.createTextNode(words(text.slice(last))));
  }

  function mrkdwn(text, ctx) {
    const box = el("div", "mrkdwn");
    const parts = String(text || "").split("```");
    parts.forEach((part, index) => {
      if (index % 2 === 1) { box.appendChild(el("pre", null, decode(part.replace(/^\n/, "")))); return; }
      const lines = part.split("\n");
      lines.forEach((line, i) => {
        if (line.startsWith("&gt;") || line.startsWith(">")) {
          const quote = el("blockquote");
          inline(line.replace(/^(&gt;|>)\s?/, ""), ctx, quote);
          box.appendChild(quote);
          return;
        }
        const span = el("span");
        inline(line, ctx, span);
        box.appendChild(span);
        if (i < lines.length - 1) box.appendChild(el("br"));
      });
    });
    return box;
  }

  function textObject(obj, ctx) {
    if (!obj) return el("span");
    if (obj.type === "mrkdwn") return mrkdwn(obj.text, ctx);
    return el("span", "plain", obj.text);
  }

  // -- interactive elements -------------------------------------------------
  function option(opt) {
    return { text: opt.text, value: opt.value };
  }

  function allOptions(element) {
    const groups = element.option_groups || [];
    return (element.options || []).concat(...groups.map((g) => g.options || []));
  }

  function button(element, blockId, ctx) {
    const b = el("button", "btn" + (element.style ? " " + element.style : ""), element.text && element.text.text);
    b.type = "button";
    b.dataset.actionId = element.action_id || "";
    b.addEventListener("click", () => {
      if (element.url) window.open(element.url, "_blank", "noopener");
      if (element.confirm && !window.confirm((element.confirm.text || {}).text || "Are you sure?")) return;
      ctx.onAction({ type: "button", action_id: element.action_id, block_id: blockId, value: element.value,
                     text: element.text });
    });
    return b;
  }

  function select(element, blockId, ctx, input) {
    const s = el("select", "select");
    s.dataset.actionId = element.action_id || "";
    const placeholder = el("option", null, (element.placeholder && element.placeholder.text) || "Select an item");
    placeholder.value = "";
    s.appendChild(placeholder);
    const options = allOptions(element);
    options.forEach((opt, i) => {
      const o = el("option", null, opt.text.text);
      o.value = String(i);
      if (element.initial_option && element.initial_option.value === opt.value) o.selected = true;
      s.appendChild(o);
    });
    s.readValue = () => ({ type: "static_select",
                           selected_option: s.value === "" ? null : option(options[Number(s.value)]) });
    if (!input || input.dispatch_action) {
      s.addEventListener("change", () => {
        if (s.value === "") return;
        ctx.onAction({ type: "static_select", action_id: element.action_id, block_id: blockId,
                       selected_option: option(options[Number(s.value)]) });
      });
    }
    return s;
  }

  function overflow(element, blockId, ctx) {
    const box = el("span", "overflow");
    const toggle = el("button", "btn overflow-toggle", "⋯");
    toggle.type = "button";
    toggle.setAttribute("aria-label", "More actions");
    const menu = el("div", "overflow-menu");
    menu.hidden = true;
    (element.options || []).forEach((opt) => {
      const item = el("button", "overflow-item", opt.text.text);
      item.type = "button";
      item.addEventListener("click", () => {
        menu.hidden = true;
        ctx.onAction({ type: "overflow", action_id: element.action_id, block_id: blockId, selected_option: option(opt) });
      });
      menu.appendChild(item);
    });
    toggle.addEventListener("click", () => { menu.hidden = !menu.hidden; });
    box.append(toggle, menu);
    return box;
  }

  function textInput(element) {
    const field = element.multiline ? el("textarea", "text-input") : el("input", "text-input");
    if (!element.multiline) field.type = "text";
    if (element.placeholder) field.placeholder = element.placeholder.text;
    if (element.initial_value) field.value = element.initial_value;
    if (element.max_length) field.maxLength = element.max_length;
    field.readValue = () => ({ type: "plain_text_input", value: field.value === "" ? null : field.value });
    return field;
  }

  function datepicker(element, blockId, ctx, input) {
    const field = el("input", "date-input");
    field.type = "date";
    if (element.initial_date) field.value = element.initial_date;
    field.readValue = () => ({ type: "datepicker", selected_date: field.value || null });
    if (!input) field.addEventListener("change", () => ctx.onAction(Object.assign(
      { action_id: element.action_id, block_id: blockId }, field.readValue())));
    return field;
  }

  function choices(element, kind, ctx) {
    const box = el("div", "choices");
    const name = "c" + Math.random().toString(36).slice(2);
    const initial = (element.initial_options || (element.initial_option ? [element.initial_option] : [])).map((o) => o.value);
    const inputs = (element.options || []).map((opt) => {
      const label = el("label", "choice");
      const box_ = el("input");
      box_.type = kind;
      box_.name = name;
      box_.checked = initial.includes(opt.value);
      label.append(box_, textObject(opt.text, ctx));
      if (opt.description) label.appendChild(el("span", "choice-hint", opt.description.text));
      box.appendChild(label);
      return [box_, opt];
    });
    box.readValue = () => {
      const picked = inputs.filter(([b]) => b.checked).map(([, o]) => option(o));
      return kind === "checkbox" ? { type: "checkboxes", selected_options: picked }
                                 : { type: "radio_buttons", selected_option: picked[0] || null };
    };
    return box;
  }

  function image(element) {
    const img = el("img", "image");
    img.src = element.image_url || "";
    img.alt = element.alt_text || "";
    return img;
  }

  function element(elementObj, blockId, ctx, input) {
    switch (elementObj.type) {
      case "button": return button(elementObj, blockId, ctx);
      case "static_select": return select(elementObj, blockId, ctx, input);
      case "overflow": return overflow(elementObj, blockId, ctx);
      case "plain_text_input": return textInput(elementObj);
      case "datepicker": return datepicker(elementObj, blockId, ctx, input);
      case "checkboxes": return choices(elementObj, "checkbox", ctx);
      case "radio_buttons": return choices(elementObj, "radio", ctx);
      case "image": return image(elementObj);
      default: return el("span", "unsupported", "[" + elementObj.type + "]");
    }
  }

  // -- rich text ------------------------------------------------------------
  function richInline(items, ctx, into) {
    (items || []).forEach((item) => {
      let node;
      if (item.type === "text") {
        node = document.createTextNode(item.text);
        const style = item.style || {};
        if (style.code) { const c = el("code"); c.appendChild(node); node = c; }
        if (style.bold) { const b = el("strong"); b.appendChild(node); node = b; }
        if (style.italic) { const i = el("em"); i.appendChild(node); node = i; }
        if (style.strike) { const s = el("s"); s.appendChild(node); node = s; }
      } else if (item.type === "link") {
        node = link(item.url + (item.text ? "|" + item.text : ""), ctx);
      } else if (item.type === "user") {
        node = el("span", "mention", "@" + (ctx.names[item.user_id] || item.user_id));
      } else if (item.type === "channel") {
        node = el("span", "mention", "#" + (ctx.channels[item.channel_id] || item.channel_id));
      } else if (item.type === "emoji") {
        node = document.createTextNode(item.unicode ? String.fromCodePoint(...item.unicode.split("-").map((h) => parseInt(h, 16)))
                                                    : EMOJI[item.name] || ":" + item.name + ":");
      } else if (item.type === "broadcast") {
        node = el("span", "mention", "@" + item.range);
      } else {
        node = document.createTextNode("");
      }
      into.appendChild(node);
    });
  }

  function richText(block, ctx) {
    const box = el("div", "rich-text");
    (block.elements || []).forEach((part) => {
      if (part.type === "rich_text_list") {
        const list = el(part.style === "ordered" ? "ol" : "ul");
        (part.elements || []).forEach((item) => { const li = el("li"); richInline(item.elements, ctx, li); list.appendChild(li); });
        box.appendChild(list);
      } else {
        const tag = { rich_text_quote: "blockquote", rich_text_preformatted: "pre" }[part.type] || "p";
        const node = el(tag);
        richInline(part.elements, ctx, node);
        box.appendChild(node);
      }
    });
    return box;
  }

  // -- blocks -----------------------------------------------------------------
  function block(b, ctx) {
    const blockId = b.block_id || "";
    switch (b.type) {
      case "header": return el("h3", "block header", b.text && b.text.text);
      case "divider": return el("hr", "block divider");
      case "image": {
        const fig = el("figure", "block image-block");
        if (b.title) fig.appendChild(el("figcaption", null, b.title.text));
        fig.appendChild(image(b));
        return fig;
      }
      case "context": {
        const box = el("div", "block context");
        (b.elements || []).forEach((e) => box.appendChild(e.type === "image" ? image(e) : textObject(e, ctx)));
        return box;
      }
      case "section": {
        const box = el("div", "block section");
        const body = el("div", "section-body");
        if (b.text) body.appendChild(textObject(b.text, ctx));
        if (b.fields) {
          const fields = el("div", "fields");
          b.fields.forEach((f) => fields.appendChild(textObject(f, ctx)));
          body.appendChild(fields);
        }
        box.appendChild(body);
        if (b.accessory) { const acc = el("div", "accessory"); acc.appendChild(element(b.accessory, blockId, ctx)); box.appendChild(acc); }
        return box;
      }
      case "actions": {
        const box = el("div", "block actions");
        (b.elements || []).forEach((e) => box.appendChild(element(e, blockId, ctx)));
        return box;
      }
      case "rich_text": return richText(b, ctx);
      case "input": {
        const box = el("div", "block input");
        box.dataset.blockId = blockId;
        const label = el("label", "input-label", b.label && b.label.text);
        if (b.optional) label.appendChild(el("span", "optional", " (optional)"));
        box.appendChild(label);
        const field = element(b.element, blockId, ctx, b);
        field.classList.add("input-field");
        field.dataset.blockId = blockId;
        field.dataset.actionId = b.element.action_id || "";
        box.appendChild(field);
        if (b.hint) box.appendChild(el("div", "hint", b.hint.text));
        const error = el("div", "field-error");
        error.dataset.errorFor = blockId;
        box.appendChild(error);
        return box;
      }
      default: return el("div", "block unsupported", "[unsupported block: " + b.type + "]");
    }
  }

  function render(blocks, ctx) {
    const box = el("div", "blocks");
    (blocks || []).forEach((b) => box.appendChild(block(b, ctx)));
    return box;
  }

  // The state Slack sends with a view: values[block_id][action_id] for every input.
  function values(container) {
    const found = {};
    container.querySelectorAll(".input-field").forEach((field) => {
      if (!field.readValue) return;
      (found[field.dataset.blockId] = found[field.dataset.blockId] || {})[field.dataset.actionId] = field.readValue();
    });
    return found;
  }

  return { render, mrkdwn, values, el };
})();
