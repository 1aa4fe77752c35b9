//! `#[conductor::main]` and `#[conductor::test]`: run an `async fn` on a conductor loop.

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Ident, ItemFn, Token, parse_macro_input};

/// Runs `async fn main` with `conductor::run` (asyncio's `asyncio.run(main())`), Ctrl-C
/// handling included: the first SIGINT cancels `main` and lets its cleanup run (see
/// `Runtime::run`).
///
/// `#[conductor::main(paused)]` uses a paused clock; `#[conductor::main(debug)]` turns on
/// debug mode.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, false)
}

/// Runs an `async fn` test on a fresh conductor loop. `#[conductor::test(paused)]` gives it a
/// paused clock, so that time-based tests run instantly and deterministically.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, true)
}

fn expand(args: TokenStream, item: TokenStream, test: bool) -> TokenStream {
    let flags = match Punctuated::<Ident, Token![,]>::parse_terminated.parse(args) {
        Ok(f) => f,
        Err(e) => return e.to_compile_error().into(),
    };
    let mut builder = quote! { ::conductor::Runtime::builder() };
    for flag in &flags {
        match flag.to_string().as_str() {
            "paused" => builder = quote! { #builder.paused_clock() },
            "debug" => builder = quote! { #builder.debug(true) },
            other => {
                let msg =
                    format!("unknown conductor option `{other}` (expected `paused` or `debug`)");
                return syn::Error::new(flag.span(), msg).to_compile_error().into();
            }
        }
    }
    let mut f = parse_macro_input!(item as ItemFn);
    if f.sig.asyncness.take().is_none() {
        let msg = "the function must be `async fn`";
        return syn::Error::new_spanned(f.sig.fn_token, msg)
            .to_compile_error()
            .into();
    }
    let body = &f.block;
    let attrs = &f.attrs;
    let vis = &f.vis;
    let sig = &f.sig;
    let test_attr = if test {
        quote! { #[::core::prelude::v1::test] }
    } else {
        quote! {}
    };
    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            #builder
                .build()
                .expect("conductor: could not create the event loop")
                .run(async move #body)
        }
    }
    .into()
}
