/** The blobsight page: wires the key prompt, profiles, uploads, results and the detail dialog together. */
import { adoptKeyFromUrl, apiFetch, currentSession, initSession, onKeyNeeded, saveKey } from './api.js';
import { initDetail } from './detail.js';
import { byId, h, replace } from './dom.js';
import { kindText, loadProfiles, profileByName } from './profiles.js';
import { initResults } from './results.js';
import { initStats } from './stats.js';
import { initReviewQueue } from './review-queue.js';
import { initUploads } from './uploads.js';

const DEFAULT_POLL_TIMEOUT_MS = 60_000;
const DEFAULT_CONCURRENCY = 3;

adoptKeyFromUrl();
setUpKeyPrompt();

const settings = readSettings();
const profileSelect = byId('profile-select');
const profileHint = byId('profile-hint');

const detail = initDetail({
  onReviewed: (doc) => results.update(doc),
  openerFor: (id) => results.opener(id),
});
const results = initResults({ openDetail: (id, opener) => void detail.open(id, opener) });
initUploads({
  profile: () => profileSelect.value,
  concurrency: settings.concurrency,
  pollTimeoutMs: settings.pollTimeoutMs,
  onFinished: () => results.refreshSoon(),
  openDetail: (id, opener) => void detail.open(id, opener),
});
profileSelect.addEventListener('change', () => describeProfile());
const stats = initStats();

void start();

async function start() {
  // Signed in (or sent to sign in) before anything asks the API; without sign-in the page uses the function key.
  showSession(await initSession());
  // Profiles first: a missing key is asked for once, then the list loads with it.
  await showProfiles();
  await results.reload();
  void stats.load();
  initReviewQueue({ onReviewed: (doc) => results.update(doc) });
  void showHealth();
}

/** Settings for this page: `?pollTimeoutMs=` and `?concurrency=` win over the body's data attributes. */
function readSettings() {
  const query = new URLSearchParams(window.location.search);
  const num = (q, data, fallback, min, max) => {
    const raw = query.get(q) ?? document.body.dataset[data];
    const n = Number(raw);
    return raw !== undefined && raw !== null && raw !== '' && Number.isFinite(n) ? Math.min(max, Math.max(min, Math.round(n))) : fallback;
  };
  return {
    pollTimeoutMs: num('pollTimeoutMs', 'pollTimeoutMs', DEFAULT_POLL_TIMEOUT_MS, 100, 3_600_000),
    concurrency: num('concurrency', 'uploadConcurrency', DEFAULT_CONCURRENCY, 1, 8),
  };
}

function setUpKeyPrompt() {
  const panel = byId('key-panel');
  const form = byId('key-form');
  const input = byId('key-input');
  const message = byId('key-message');
  let resolveKey;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (key === '') {
      input.focus();
      return;
    }
    saveKey(key);
    input.value = '';
    panel.hidden = true;
    resolveKey?.(key);
    resolveKey = undefined;
  });
  onKeyNeeded(
    (rejectedKey) =>
      new Promise((resolve) => {
        resolveKey = resolve;
        message.textContent =
          rejectedKey === ''
            ? 'The API needs this app\u2019s function key (Azure portal → the function app → App keys). It is kept only for this browser tab.'
            : 'That key was not accepted. Enter the function key again.';
        panel.hidden = false;
        input.focus();
      }),
  );
}

async function showProfiles() {
  const filterSelect = byId('filter-profile');
  try {
    const { defaultProfile, model, items } = await loadProfiles();
    replace(
      profileSelect,
      items.map((p) =>
        h('option', {
          value: p.name,
          selected: p.name === defaultProfile,
          'data-unserved': p.servedByModel === false ? 'true' : null,
          text: `${p.name} — ${kindText(p.kind)}${p.name === defaultProfile ? ' (default)' : ''}${p.servedByModel === false ? ' — not served by the configured model' : ''}`,
        }),
      ),
    );
    replace(filterSelect, h('option', { value: '', text: 'Any' }), items.map((p) => h('option', { value: p.name, text: p.name })));
    if (model !== null && model !== undefined) {
      const info = byId('model-info');
      info.textContent = `Model: ${model.provider} · ${model.deployment}`;
      info.hidden = false;
    }
    describeProfile();
  } catch (e) {
    replace(profileSelect, h('option', { value: '', text: 'Default profile' }));
    profileHint.className = 'hint error-text';
    profileHint.textContent = `Profiles could not be loaded: ${e instanceof Error ? e.message : String(e)}. Uploads use the app's default profile.`;
  }
}

function describeProfile() {
  const option = profileSelect.selectedOptions[0];
  const name = profileSelect.value;
  const unserved = option?.dataset.unserved === 'true';
  const parts = [profileByName(name)?.description ?? ''];
  if (unserved) parts.push('The configured model cannot serve this kind of profile: uploads with it will not be classified.');
  profileHint.className = unserved ? 'hint warning-text' : 'hint';
  profileHint.textContent = parts.filter((t) => t !== '').join(' ');
}

async function showHealth() {
  const footer = byId('health-info');
  try {
    // Details are for key holders (api/health/details) and signed-in readers (api/health answers them with details).
    const res = await apiFetch(currentSession().mode === 'signed-in' ? 'api/health' : 'api/health/details');
    const body = await res.json();
    const checks = Array.isArray(body?.checks) ? body.checks.map((c) => `${c.name} ${c.ok ? 'ok' : 'unavailable'}`).join(' · ') : '';
    footer.textContent = `Service ${body?.status ?? 'unknown'}${checks === '' ? '' : ` — ${checks}`}`;
  } catch {
    footer.textContent = 'Service health unknown.';
  }
}

/** Who is signed in, with which roles, and what they may not do here. */
function showSession(session) {
  if (session.mode !== 'signed-in') return;
  const { user } = session;
  const info = byId('session-info');
  const roles = user.roles.length === 0 ? 'no role' : user.roles.join(', ');
  replace(
    info,
    h('span', { class: 'session-user', text: `Signed in as ${user.name ?? user.objectId} (${roles})` }),
    ' · ',
    h('a', { href: `${session.logoutUrl}?post_logout_redirect_uri=${encodeURIComponent('/')}`, text: 'Sign out' }),
  );
  info.hidden = false;
  if (!user.canRead) {
    const message = byId('session-message');
    message.textContent = 'Your account has no role in this app. Ask an owner to assign Reader or Reviewer (Microsoft Entra ID → Enterprise applications → blobsight → Users and groups).';
    message.hidden = false;
  }
  // A reader looks only: no uploads (they write blobs and spend tokens) and no corrections.
  if (!user.canReview) byId('upload-panel').hidden = true;
}
