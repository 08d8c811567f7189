/** Correct a label: a form fitted to the profile's kind, sent as PATCH api/images/{id}/review. */
import { apiJson, currentSession } from './api.js';
import { h } from './dom.js';

const REVIEWER_STORAGE = 'blobsight.reviewer';
let uid = 0;

/** The form for `doc` under `profile` (from api/profiles); `onSaved(doc)` gets the updated document. */
export function reviewForm(doc, profile, { onSaved }) {
  const section = h('section', { class: 'review-section', 'aria-labelledby': 'review-form-heading' }, h('h3', { id: 'review-form-heading', text: doc.review ? 'Change the correction' : 'Correct the label' }));
  if (doc.profile === null || doc.profile === undefined) {
    section.append(h('p', { class: 'hint', text: 'This upload has no profile (it was rejected before one was chosen), so there is nothing to correct.' }));
    return section;
  }
  if (profile === undefined) {
    section.append(h('p', { class: 'hint', text: `Profile ${doc.profile.name} is no longer known to the app, so it cannot be reviewed here.` }));
    return section;
  }
  const session = currentSession();
  if (session.mode === 'signed-in' && !session.user.canReview) {
    section.append(h('p', { class: 'hint', text: 'You can look but not correct: corrections need the Reviewer role.' }));
    return section;
  }
  const fields = fieldsFor(doc, profile);
  if (fields === null) {
    section.append(h('p', { class: 'hint', text: 'The model found no objects, so there is nothing to keep or remove.' }));
    return section;
  }

  const id = ++uid;
  const note = h('textarea', { id: `review-note-${id}`, name: 'note', rows: 2, maxlength: 2000, value: doc.review?.note ?? '' });
  const reviewer = h('input', { id: `review-reviewer-${id}`, name: 'reviewer', type: 'text', maxlength: 200, autocomplete: 'name', value: localStorage.getItem(REVIEWER_STORAGE) ?? '' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Save correction' });
  const message = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'review-form', novalidate: true },
    fields.element,
    h('div', { class: 'field' }, h('label', { for: note.id, text: 'Note (optional)' }), note),
    // Signed in, the app records who reviewed from the sign-in; a name typed here would be only a claim.
    session.mode === 'signed-in'
      ? h('p', { class: 'hint review-as', text: `Saved as ${session.user.name ?? session.user.objectId}.` })
      : h('div', { class: 'field' }, h('label', { for: reviewer.id, text: 'Your name (optional)' }), reviewer),
    h('div', { class: 'form-actions' }, submit),
    message,
  );

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { ...fields.value() };
    const noteText = note.value.trim();
    const reviewerText = reviewer.value.trim();
    if (noteText !== '') body.note = noteText;
    if (reviewerText !== '' && session.mode !== 'signed-in') {
      body.reviewer = reviewerText;
      localStorage.setItem(REVIEWER_STORAGE, reviewerText);
    }
    submit.disabled = true;
    message.className = 'message';
    message.textContent = 'Saving…';
    try {
      const updated = await apiJson(`api/images/${encodeURIComponent(doc.id)}/review`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      message.className = 'message success';
      message.textContent = "Correction saved. The model's answer is kept beside it.";
      onSaved(updated, message.textContent);
    } catch (err) {
      message.className = 'message error';
      message.textContent = `The correction was not saved: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      submit.disabled = false;
    }
  });
  section.append(form);
  return section;
}

/** The inputs for each profile kind and how to read them into the review body. */
function fieldsFor(doc, profile) {
  const current = doc.review?.result ?? doc.result;
  const id = ++uid;
  switch (profile.kind) {
    case 'single-label': {
      const chosen = current?.kind === 'single-label' ? current.label : undefined;
      const select = h(
        'select',
        { id: `review-label-${id}`, name: 'label' },
        chosen === undefined ? h('option', { value: '', text: 'Choose a label', disabled: true, selected: true }) : null,
        profile.labels.map((l) => h('option', { value: l.name, text: l.name, selected: l.name === chosen })),
      );
      return {
        element: h('div', { class: 'field' }, h('label', { for: select.id, text: 'Correct label' }), select),
        value: () => ({ label: select.value }),
      };
    }
    case 'multi-label': {
      const present = new Set(current?.kind === 'multi-label' ? current.labels.map((d) => d.label) : []);
      const boxes = checkboxes(id, 'Labels that apply', profile.labels.map((l) => l.name), present);
      return { element: boxes.element, value: () => ({ labels: boxes.checked() }) };
    }
    case 'attributes': {
      const selects = profile.attributes.map((field) => {
        const chosen = current?.kind === 'attributes' ? current.attributes[field.name]?.label : undefined;
        const select = h(
          'select',
          { id: `review-attr-${id}-${field.name}`, name: field.name },
          h('option', { value: '', text: chosen === undefined ? 'not set' : 'keep the model\u2019s answer' }),
          field.labels.map((l) => h('option', { value: l.name, text: l.name, selected: l.name === chosen })),
        );
        return { name: field.name, select, element: h('div', { class: 'field' }, h('label', { for: select.id, text: field.name }), select) };
      });
      return {
        element: h('fieldset', { class: 'attribute-fields' }, h('legend', { text: 'Attributes' }), selects.map((s) => s.element)),
        value: () => ({ attributes: Object.fromEntries(selects.filter((s) => s.select.value !== '').map((s) => [s.name, s.select.value])) }),
      };
    }
    case 'objects': {
      // A review keeps or removes the model's detections by category; it does not draw new boxes.
      const model = doc.result?.kind === 'objects' ? [...new Set(doc.result.objects.map((o) => o.label))].sort() : [];
      if (model.length === 0) return null;
      const kept = new Set(doc.review?.result?.kind === 'objects' ? doc.review.result.objects.map((o) => o.label) : model);
      const boxes = checkboxes(id, 'Categories whose boxes are right', model, kept);
      return { element: boxes.element, value: () => ({ labels: boxes.checked() }) };
    }
    default:
      return null;
  }
}

function checkboxes(id, legend, names, checked) {
  const inputs = names.map((name, i) => h('input', { type: 'checkbox', id: `review-check-${id}-${i}`, name: 'labels', value: name, checked: checked.has(name) }));
  const element = h(
    'fieldset',
    { class: 'checkbox-group' },
    h('legend', { text: legend }),
    inputs.map((input, i) => h('div', { class: 'check' }, input, h('label', { for: input.id, text: names[i] }))),
  );
  return { element, checked: () => inputs.filter((i) => i.checked).map((i) => i.value) };
}
