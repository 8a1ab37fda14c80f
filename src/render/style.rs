//! Colours for terminal output; every helper returns plain text when colour is off.

use console::Style;

use crate::plan::Action;

#[derive(Clone, Debug)]
pub struct Styles {
    enabled: bool,
}

impl Styles {
    pub fn new(enabled: bool) -> Styles {
        Styles { enabled }
    }

    pub fn plain() -> Styles {
        Styles { enabled: false }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.enabled {
            style.force_styling(true).apply_to(text).to_string()
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }
    pub fn dim(&self, text: &str) -> String {
        self.paint(Style::new().dim(), text)
    }
    pub fn create(&self, text: &str) -> String {
        self.paint(Style::new().green(), text)
    }
    pub fn delete(&self, text: &str) -> String {
        self.paint(Style::new().red(), text)
    }
    pub fn update(&self, text: &str) -> String {
        self.paint(Style::new().yellow(), text)
    }
    pub fn error(&self, text: &str) -> String {
        self.paint(Style::new().red().bold(), text)
    }
    pub fn warning(&self, text: &str) -> String {
        self.paint(Style::new().yellow().bold(), text)
    }

    pub fn action(&self, action: Action, text: &str) -> String {
        match action {
            Action::Create => self.create(text),
            Action::Delete => self.delete(text),
            Action::Update => self.update(text),
            Action::Replace => self.paint(Style::new().magenta(), text),
            Action::Noop => text.to_string(),
        }
    }
}
