// The section bar scrolls sideways on a phone: bring the current section into view.
document.addEventListener("DOMContentLoaded", () => {
  const bar = document.querySelector(".masthead .sections");
  const current = bar && bar.querySelector('a[aria-current="page"]');
  if (current && bar.scrollWidth > bar.clientWidth) {
    bar.scrollLeft = current.offsetLeft - (bar.clientWidth - current.offsetWidth) / 2;
  }
});

// The library picker on the workbench and in the inbox: a script picked goes into the message box, to edit.
document.addEventListener("change", (event) => {
  const picker = event.target.closest && event.target.closest("select[data-fill-from-library]");
  if (!picker) return;
  const option = picker.selectedOptions[0];
  const box = picker.form && picker.form.querySelector("textarea");
  if (box && option && option.dataset.text) box.value = option.dataset.text;
});
