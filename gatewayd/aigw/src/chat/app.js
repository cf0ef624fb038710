// Warden's sanctioned chat page: sends the conversation to /chat/api/completions, shows the
// answer as it streams, and keeps conversations in this browser's localStorage only.
// Text from people and models is only ever put into the page as text (textContent): the CSP
// enforces Trusted Types, so an HTML sink would throw rather than render.
"use strict";
(function () {
  const API = "/chat/api/completions";
  const MAX_CHATS = 50;
  const body = document.body;
  const form = document.getElementById("composer");
  const log = document.getElementById("log");
  const list = document.getElementById("chats");
  const status = document.getElementById("status");
  if (!log || !list) return;
  const storeKey = "warden.chat.v1." + (body.dataset.user || "");
  let state = load();
  let busy = false;

  function load() {
    try {
      const saved = JSON.parse(window.localStorage.getItem(storeKey) || "null");
      if (saved && Array.isArray(saved.chats)) return saved;
    } catch (e) {
      // Unreadable storage starts afresh rather than breaking the page.
    }
    return { chats: [], current: null };
  }

  function save() {
    state.chats = state.chats.slice(0, MAX_CHATS);
    try {
      window.localStorage.setItem(storeKey, JSON.stringify(state));
    } catch (e) {
      say("This browser could not keep the conversation (storage is full or off).");
    }
  }

  function current() {
    return state.chats.find((c) => c.id === state.current) || null;
  }

  function newChat() {
    const chat = { id: String(Date.now()) + Math.random().toString(16).slice(2), title: "", messages: [] };
    state.chats.unshift(chat);
    state.current = chat.id;
    return chat;
  }

  function say(text) {
    if (status) status.textContent = text;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function bubble(message) {
    const node = element("div", "msg " + message.role + (message.notice ? " blocked" : ""));
    node.appendChild(element("div", "who", message.role === "user" ? "You" : message.model || "Assistant"));
    const text = element("div", "text", message.notice || message.content);
    if (message.error) node.classList.add("error");
    node.appendChild(text);
    log.appendChild(node);
    node.scrollIntoView({ block: "end" });
    return text;
  }

  function render() {
    while (log.firstChild) log.removeChild(log.firstChild);
    const chat = current();
    if (chat) chat.messages.forEach(bubble);
    while (list.firstChild) list.removeChild(list.firstChild);
    state.chats.forEach((c) => {
      const item = element("li");
      const open = element("button", c.id === state.current ? "chat current" : "chat", c.title || "New chat");
      open.type = "button";
      open.addEventListener("click", () => {
        if (busy) return;
        state.current = c.id;
        save();
        render();
      });
      item.appendChild(open);
      list.appendChild(item);
    });
  }

  // What the model sees: the conversation so far, without blocked messages or errors.
  function context(chat) {
    return chat.messages
      .filter((m) => !m.notice && !m.error && (m.role === "user" || m.role === "assistant"))
      .map((m) => ({ role: m.role, content: m.content }));
  }

  // "This answer was blocked: it contains a card number." from the detector ids a stream's
  // error names, in the words the page was rendered with.
  function blockedAnswer(message) {
    const named = /\(([^()]*)\)\s*$/.exec(message || "");
    if (!named) return null;
    const words = [];
    named[1].split(",").forEach((id) => {
      const item = document.querySelector('#dlp-words li[data-detector="' + CSS.escape(id.trim()) + '"]');
      const word = item ? item.textContent : 'data of the kind "' + id.trim().replace(/_/g, " ") + '"';
      if (!words.includes(word)) words.push(word);
    });
    const list = words.length > 1 ? words.slice(0, -1).join(", ") + " and " + words[words.length - 1] : words[0];
    return "This answer was blocked: it contains " + list + ".";
  }

  function failure(json, status) {
    if (json && typeof json.warden_notice === "string") return { notice: json.warden_notice };
    const code = json && json.error && json.error.code;
    if (code === "response_dlp_blocked") {
      const notice = blockedAnswer(json.error.message);
      if (notice) return { notice: notice };
    }
    const message = json && json.error && json.error.message;
    return { error: message ? String(message) : "The request failed (HTTP " + status + ")." };
  }

  async function send(text, model) {
    const chat = current() || newChat();
    if (!chat.title) chat.title = text.slice(0, 60);
    const question = { role: "user", content: text };
    chat.messages.push(question);
    const messages = context(chat);
    save();
    render();
    const answer = { role: "assistant", content: "", model: model };
    let target = null;
    const response = await fetch(API, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      cache: "no-store",
      body: JSON.stringify({ model: model, messages: messages, stream: true }),
    });
    if (!response.ok) {
      let json = null;
      try {
        json = await response.json();
      } catch (e) {
        json = null;
      }
      const why = failure(json, response.status);
      if (why.notice) {
        // The blocked text is not kept: it goes back into the box to be fixed.
        question.content = "";
        question.notice = why.notice;
        const prompt = document.getElementById("prompt");
        if (prompt) prompt.value = text;
      } else {
        chat.messages.push({ role: "assistant", content: why.error, error: true, model: model });
      }
      save();
      render();
      return;
    }
    chat.messages.push(answer);
    target = bubble(answer);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let finished = false;
    const handle = (event) => {
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (!data) return;
      if (data === "[DONE]") {
        finished = true;
        return;
      }
      let json;
      try {
        json = JSON.parse(data);
      } catch (e) {
        return;
      }
      if (json.error) {
        // The stream was cut: by DLP on the answer (what arrived is not kept), or a failure.
        const why = failure(json, 200);
        if (why.notice) {
          answer.content = "";
          answer.notice = why.notice;
          target.parentNode.classList.add("blocked");
        } else {
          answer.content += (answer.content ? "\n" : "") + why.error;
          answer.error = true;
          target.parentNode.classList.add("error");
        }
        target.textContent = answer.notice || answer.content;
        finished = true;
        return;
      } else {
        const choice = json.choices && json.choices[0];
        const delta = choice && choice.delta && choice.delta.content;
        if (typeof delta === "string") answer.content += delta;
      }
      target.textContent = answer.content;
    };
    while (!finished) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let at;
      while ((at = buffer.indexOf("\n\n")) >= 0) {
        handle(buffer.slice(0, at));
        buffer = buffer.slice(at + 2);
      }
    }
    if (buffer.trim()) handle(buffer);
    save();
  }

  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const prompt = document.getElementById("prompt");
      const model = document.getElementById("model");
      const text = prompt.value.trim();
      if (!text || busy) return;
      busy = true;
      prompt.value = "";
      say("Sending…");
      send(text, model.value)
        .then(() => say(""))
        .catch(() => say("The gateway could not be reached; try again."))
        .finally(() => {
          busy = false;
          save();
          render();
          body.dataset.idle = "1";
        });
      delete body.dataset.idle;
    });
  }

  document.getElementById("new-chat").addEventListener("click", () => {
    if (busy) return;
    newChat();
    save();
    render();
  });

  document.getElementById("clear").addEventListener("click", () => {
    if (busy) return;
    state = { chats: [], current: null };
    window.localStorage.removeItem(storeKey);
    render();
  });

  render();
  body.dataset.ready = "1";
  body.dataset.idle = "1";
})();
