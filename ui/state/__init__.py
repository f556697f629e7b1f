"""The app's state, apart from the widgets: the open document, the mask being edited, jobs, the backend connection."""
