// Documents of a collection: a drop zone on the upload form (checked against the limits before
// sending), and the status of the documents refreshed while they are processed. Without this
// script the form and the page work the same (the status updates on reload).
"use strict";

(function uploadForm() {
  const form = document.querySelector("form.upload-form");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  const zone = form.querySelector("[data-dropzone]");
  const chosen = form.querySelector("[data-upload-chosen]");
  const error = form.querySelector("[data-upload-error]");
  const maxFiles = Number(form.dataset.maxFiles);
  const maxBytes = Number(form.dataset.maxBytes);

  function problem() {
    const files = Array.from(input.files || []);
    if (files.length > maxFiles) {
      return form.dataset.msgTooMany.replace("{count}", String(files.length));
    }
    const total = files.reduce((sum, file) => sum + file.size, 0);
    return total > maxBytes ? form.dataset.msgTooBig : "";
  }

  function refresh() {
    const count = (input.files || []).length;
    chosen.textContent = count ? form.dataset.msgChosen.replace("{count}", String(count)) : "";
    const message = problem();
    error.textContent = message;
    error.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  input.addEventListener("change", refresh);
  form.addEventListener("submit", (event) => {
    refresh();
    if (problem()) {
      event.preventDefault();
      input.focus();
    }
  });
  if (!zone || typeof DataTransfer === "undefined") return;
  zone.querySelector("[data-dropzone-hint]").hidden = false;
  ["dragenter", "dragover"].forEach((name) =>
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    }),
  );
  ["dragleave", "drop"].forEach((name) =>
    zone.addEventListener(name, () => zone.classList.remove("dragging")),
  );
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const dropped = event.dataTransfer && event.dataTransfer.files;
    if (!dropped || !dropped.length) return;
    const all = new DataTransfer();
    Array.from(input.files || []).forEach((file) => all.items.add(file));
    Array.from(dropped).forEach((file) => all.items.add(file));
    input.files = all.files;
    refresh();
  });
})();

(function statusPolling() {
  const table = document.getElementById("documents-table");
  if (!table || !table.dataset.statusUrl) return;
  const url = table.dataset.statusUrl;
  const live = document.getElementById("documents-live");
  const note = document.getElementById("documents-reload");
  let delay = 1500;

  function fill(cell, doc) {
    const parts = [];
    const state = document.createElement("span");
    state.className = "doc-state doc-state-" + doc.status;
    state.textContent = doc.label;
    parts.push(state);
    if (doc.active && doc.total) {
      const bar = document.createElement("progress");
      bar.max = doc.total;
      bar.value = doc.done;
      bar.setAttribute("aria-label", table.dataset.progressLabel);
      bar.textContent = doc.done + "/" + doc.total;
      parts.push(bar);
    }
    doc.details.forEach((line) => {
      const detail = document.createElement("span");
      detail.className = "doc-detail";
      detail.textContent = line;
      parts.push(detail);
    });
    cell.replaceChildren(...parts);
  }

  async function poll() {
    let body;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      // Logged out (sent to the login page) or gone: stop; the page still works on reload.
      if (!response.ok || response.redirected) return;
      body = await response.json();
    } catch (_err) {
      delay = Math.min(delay * 2, 30000); // server restarting: try again, less often
      window.setTimeout(poll, delay);
      return;
    }
    body.documents.forEach((doc) => {
      const row = table.querySelector('tr[data-document="' + doc.id + '"]');
      const cell = row && row.querySelector(".doc-status");
      if (cell) fill(cell, doc);
    });
    if (body.active) {
      window.setTimeout(poll, delay);
      return;
    }
    if (note) note.hidden = true;
    if (live) live.textContent = table.dataset.doneMessage;
  }

  window.setTimeout(poll, delay);
})();
