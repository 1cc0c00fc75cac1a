// The section bar scrolls sideways on a phone: bring the current section into view.
document.addEventListener("DOMContentLoaded", () => {
  const bar = document.querySelector(".masthead .sections");
  const current = bar && bar.querySelector('a[aria-current="page"]');
  if (current && bar.scrollWidth > bar.clientWidth) {
    bar.scrollLeft = current.offsetLeft - (bar.clientWidth - current.offsetWidth) / 2;
  }
});
