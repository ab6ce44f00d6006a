// Runs before Django's nav_sidebar.js (this file is not deferred), so kept to what must come
// first. On a screen narrower than 1600 px the navigation sidebar starts closed, so that lists
// get the width; nav_sidebar.js reads the same key, its "«" button opens the sidebar, and that
// choice is kept.
(function () {
  "use strict";
  try {
    if (window.innerWidth < 1600 && window.localStorage.getItem("django.admin.navSidebarIsOpen") === null) {
      window.localStorage.setItem("django.admin.navSidebarIsOpen", "false");
    }
  } catch (e) {
    // Storage refused (private mode): the sidebar keeps Django's default.
  }
})();
